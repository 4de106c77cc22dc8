#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

BeforeAll {
    . (Join-Path $PSScriptRoot 'PciPassthrough.TestTree.ps1')
    Import-Module (Get-PciPassthroughModulePath) -Force
    $script:runbooks = Join-Path $PSScriptRoot '..' '..' 'docs' 'runbooks'
    $script:root = New-PciTestRoot
    New-FakeIommuHost -Root $root
    New-FakePciDevice -Root $root -Address '0000:01:00.0' -Vendor '10de' -Device '1eb8' -Class '030200' -Driver 'nvidia' -IommuGroup 6
}

Describe 'Runbooks' {
    It 'Test-HostReady gives the GPU its verdict' {
        $verdict = & (Join-Path $runbooks 'Test-HostReady.ps1') -Root $root -Filter '10de:*'
        $verdict.PciAddress | Should -Be '0000:01:00.0'
        $verdict.ReadyNow | Should -BeFalse
    }

    It 'Set-GpuPassthrough -WhatIf binds nothing' {
        & (Join-Path $runbooks 'Set-GpuPassthrough.ps1') -Root $root -WhatIf
        (Get-PciDevice -Root $root -Address 0000:01:00.0).Driver | Should -Be 'nvidia'
    }

    It 'New-GpuTemplate prints a PCI section' {
        & (Join-Path $runbooks 'New-GpuTemplate.ps1') -Root $root | Should -BeLike 'PCI = `[*VENDOR = "10de"*'
    }
}

AfterAll {
    Remove-PciTestRoot $root
}
