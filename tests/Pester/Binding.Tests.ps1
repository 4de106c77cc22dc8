#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

# Only refusals and -WhatIf: no kernel stands behind a fixture tree (the real-kernel xunit tests bind).
BeforeAll {
    . (Join-Path $PSScriptRoot 'PciPassthrough.TestTree.ps1')
    Import-Module (Get-PciPassthroughModulePath) -Force
    $script:root = New-PciTestRoot
    New-FakeIommuHost -Root $root
    New-FakePciDevice -Root $root -Address '0000:01:00.0' -Vendor '10de' -Device '1eb8' -Class '030200' -Driver 'nvidia' -IommuGroup 6
    New-FakePciDevice -Root $root -Address '0000:00:1c.0' -Vendor '8086' -Device 'a110' -Class '060400' -Driver 'pcieport' -IommuGroup 7
    function Get-DriverState { Get-PciDevice -Root $root | ForEach-Object { "$($_.PciAddress)=$($_.Driver)|$($_.DriverOverride)" } }
}

Describe 'Set-VfioBinding' {
    It '-WhatIf changes nothing' {
        $before = Get-DriverState
        Get-PciDevice -Root $root -Filter '10de:*' | Set-VfioBinding -IncludeGroup -WhatIf
        Get-DriverState | Should -Be $before
        (Get-PciDevice -Root $root -Address 0000:01:00.0).Driver | Should -Be 'nvidia'
    }

    It 'refuses a bridge with DeviceIsNotAnEndpoint and changes nothing' {
        Set-VfioBinding -Root $root -Address 0000:00:1c.0 -Confirm:$false -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -Be 'DeviceIsNotAnEndpoint,PciPassthrough.PowerShell.Commands.SetVfioBindingCommand'
        (Get-PciDevice -Root $root -Address 0000:00:1c.0).Driver | Should -Be 'pcieport'
    }

    It 'refuses an address holding a path with InvalidPciAddress' {
        Set-VfioBinding -Root $root -Address '../0000:01:00.0' -Confirm:$false -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -Be 'InvalidPciAddress,PciPassthrough.PowerShell.Commands.SetVfioBindingCommand'
    }
}

Describe 'Remove-VfioBinding' {
    It 'is a no-op for a device that is not on vfio-pci' {
        Remove-VfioBinding -Root $root -Address 0000:01:00.0 -Confirm:$false -InformationVariable said
        "$said" | Should -BeLike '*not bound to vfio-pci*'
    }
}

AfterAll {
    Remove-PciTestRoot $root
}
