#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

BeforeAll {
    . (Join-Path $PSScriptRoot 'PciPassthrough.TestTree.ps1')
    Import-Module (Get-PciPassthroughModulePath) -Force
    $script:root = New-PciTestRoot
    New-FakeIommuHost -Root $root
    New-FakePciDevice -Root $root -Address '0000:01:00.0' -Vendor '10de' -Device '1eb8' -Class '030200' -Driver 'nvidia' -IommuGroup 6
    New-FakePciDevice -Root $root -Address '0000:00:1f.0' -Vendor '8086' -Device '2918' -Class '060100' -Driver 'lpc_ich' -IommuGroup 5
    New-FakePciDevice -Root $root -Address '0000:00:1f.3' -Vendor '8086' -Device '2930' -Class '0c0500' -Driver 'i801_smbus' -IommuGroup 5
}

Describe 'Test-IommuSupport' {
    It 'finds a healthy host supported' {
        (Test-IommuSupport -Root $root).Supported | Should -BeTrue
        Test-IommuSupport -Root $root -Quiet | Should -BeTrue
    }

    It 'names the failing check on a host without interrupt remapping' {
        $broken = New-PciTestRoot
        try {
            New-FakeIommuHost -Root $broken
            Set-Content -Path (Join-Path $broken 'proc/interrupts') -Value ' 0: 34 IO-APIC 2-edge timer'
            $report = Test-IommuSupport -Root $broken
            $report.Supported | Should -BeFalse
            ($report.Checks | Where-Object Name -eq 'InterruptRemapping').Status | Should -Be 'Fail'
        }
        finally {
            Remove-PciTestRoot $broken
        }
    }
}

Describe 'Get-IommuGroup' {
    It 'returns each group of the piped devices once' {
        (Get-PciDevice -Root $root -Filter '8086:*' | Get-IommuGroup).Number | Should -Be 5
    }

    It 'names the members that block a group' {
        $group = Get-IommuGroup -Root $root -Number 5
        $group.Viable | Should -BeFalse
        $group.Blockers.Driver | Should -Be @('lpc_ich', 'i801_smbus')
    }

    It 'reports a missing group as IommuGroupNotFound' {
        Get-IommuGroup -Root $root -Number 99 -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -Be 'IommuGroupNotFound,PciPassthrough.PowerShell.Commands.GetIommuGroupCommand'
    }
}

Describe 'Test-PciPassthroughReadiness' {
    It 'says a GPU on its host driver is not ready now, and why' {
        $r = Get-PciDevice -Root $root -Address 0000:01:00.0 | Test-PciPassthroughReadiness
        $r.ReadyNow | Should -BeFalse
        ($r.Findings | Where-Object Name -eq 'BoundToVfio').Status | Should -Be 'Warning'
    }

    It 'refuses a bridge-class device as a non-endpoint' {
        $r = Test-PciPassthroughReadiness -Root $root -Address 0000:00:1f.0
        ($r.Findings | Where-Object Name -eq 'Endpoint').Status | Should -Be 'Fail'
    }
}

AfterAll {
    Remove-PciTestRoot $root
}
