#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

BeforeAll {
    . (Join-Path $PSScriptRoot 'PciPassthrough.TestTree.ps1')
    Import-Module (Get-PciPassthroughModulePath) -Force
    $script:root = New-PciTestRoot
    New-FakePciDevice -Root $root -Address '0000:00:1f.2' -Vendor '8086' -Device '2922' -Class '010601' -Driver 'ahci' -IommuGroup 5
    New-FakePciDevice -Root $root -Address '0000:01:00.0' -Vendor '10de' -Device '1eb8' -Class '030200' -Driver 'nvidia' -IommuGroup 6
    New-FakePciDevice -Root $root -Address '0000:02:00.0' -Vendor '8086' -Device '1521' -Class '020000' -Driver 'igb' -IommuGroup 7
}

Describe 'Get-PciDevice' {
    It 'lists every device of the tree in address order' {
        (Get-PciDevice -Root $root).PciAddress | Should -Be @('0000:00:1f.2', '0000:01:00.0', '0000:02:00.0')
    }

    It 'filters as lspci -d does: <Filter>' -TestCases @(
        @{ Filter = '10de:*'; Expected = @('0000:01:00.0') }
        @{ Filter = '*:*:01xx'; Expected = @('0000:00:1f.2') }
        @{ Filter = '8086:1521:0200'; Expected = @('0000:02:00.0') }
    ) {
        (Get-PciDevice -Root $root -Filter $Filter).PciAddress | Should -Be $Expected
    }

    It 'reads ids, class and driver exactly' {
        $gpu = Get-PciDevice -Root $root -Address 0000:01:00.0
        $gpu.Type | Should -Be '10de:1eb8:0302'
        $gpu.Class | Should -Be '0302'
        $gpu.Driver | Should -Be 'nvidia'
        $gpu.IommuGroup | Should -Be 6
    }

    It 'reports an exact address that matches nothing as PciDeviceNotFound and goes on' {
        $found = Get-PciDevice -Root $root -Address 0000:09:00.0, 0000:02:00.0 -ErrorVariable errors -ErrorAction SilentlyContinue
        $found.PciAddress | Should -Be '0000:02:00.0'
        $errors[0].FullyQualifiedErrorId | Should -Be 'PciDeviceNotFound,PciPassthrough.PowerShell.Commands.GetPciDeviceCommand'
        $errors[0].TargetObject | Should -Be '0000:09:00.0'
    }

    It 'refuses a malformed filter with InvalidPciFilter' {
        { Get-PciDevice -Root $root -Filter '10de' } |
            Should -Throw -ErrorId 'InvalidPciFilter,PciPassthrough.PowerShell.Commands.GetPciDeviceCommand'
    }

    It 'refuses an address holding a path with InvalidPciAddress' {
        { Get-PciDevice -Root $root -Address '../0000:01:00.0' } |
            Should -Throw -ErrorId 'InvalidPciAddress,PciPassthrough.PowerShell.Commands.GetPciDeviceCommand'
    }

    It 'refuses a root that does not exist with HostRootNotFound' {
        { Get-PciDevice -Root (Join-Path $TestDrive 'nowhere') } |
            Should -Throw -ErrorId 'HostRootNotFound,PciPassthrough.PowerShell.Commands.GetPciDeviceCommand'
    }
}

AfterAll {
    Remove-PciTestRoot $root
}
