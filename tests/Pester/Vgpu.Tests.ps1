#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

# NVIDIA's vendor-specific vGPU framework on a synthetic tree (no NVIDIA hardware is available to the
# tests): an A10 PF with one VF carrying nvidia/creatable_vgpu_types and nvidia/current_vgpu_type.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PciPassthrough.TestTree.ps1')
    Import-Module (Get-PciPassthroughModulePath) -Force

    function New-FakeA10Host {
        $root = New-PciTestRoot
        New-FakePciDevice -Root $root -Address '0000:41:00.0' -Vendor '10de' -Device '2236' -Class '030200' -Driver 'nvidia' -IommuGroup 20
        New-FakePciDevice -Root $root -Address '0000:41:00.4' -Vendor '10de' -Device '2236' -Class '030200' -Driver 'nvidia' -IommuGroup 21
        $pf = Join-Path $root 'sys/devices/pci0000:41/0000:41:00.0'
        $vf = Join-Path $root 'sys/devices/pci0000:41/0000:41:00.4'
        Set-Content -Path (Join-Path $pf 'sriov_totalvfs') -Value 32
        Set-Content -Path (Join-Path $pf 'sriov_numvfs') -Value 1
        New-Item -ItemType SymbolicLink -Path (Join-Path $pf 'virtfn0') -Target '../0000:41:00.4' | Out-Null
        New-Item -ItemType SymbolicLink -Path (Join-Path $vf 'physfn') -Target '../0000:41:00.0' | Out-Null
        New-Item -ItemType Directory -Path (Join-Path $vf 'nvidia') | Out-Null
        Set-Content -Path (Join-Path $vf 'nvidia/creatable_vgpu_types') -Value "ID    : vGPU Name`n588   : NVIDIA A10-1B`n590   : NVIDIA A10-1Q"
        Set-Content -Path (Join-Path $vf 'nvidia/current_vgpu_type') -Value '0'
        return $root
    }
}

Describe 'NVIDIA vendor-specific vGPU types' {
    BeforeEach { $script:root = New-FakeA10Host }
    AfterEach { Remove-PciTestRoot $root }

    It 'Get-PciDevice tells the framework and Get-PciVgpuType lists a PF''s VF types' {
        (Get-PciDevice -Root $root -Address 0000:41:00.4).VgpuFramework | Should -Be 'NvidiaVendor'
        (Get-PciDevice -Root $root -Address 0000:41:00.0).VgpuFramework | Should -Be 'None'
        $types = Get-PciDevice -Root $root -Address 0000:41:00.0 | Get-PciVgpuType
        $types.TypeId | Should -Be @(588, 590)
        $types.ShortName | Should -Be @('A10-1B', 'A10-1Q')
        $types.PciAddress | Select-Object -Unique | Should -Be '0000:41:00.4'
        $types.Current | Should -Not -Contain $true
    }

    It 'Set-PciVgpuType -WhatIf shows the write; the type is written and read back; Clear-PciVgpuType writes 0' {
        $file = Join-Path $root 'sys/devices/pci0000:41/0000:41:00.4/nvidia/current_vgpu_type'
        $r = Invoke-ChildPwsh -Root $root -Script { param($Root) Set-PciVgpuType -Root $Root -Address 0000:41:00.4 -Type A10-1Q -WhatIf }
        $r.Output | Should -BeLike '*What if: VF 0000:41:00.4: current_vgpu_type 0 -> 590 (NVIDIA A10-1Q): write to /sys/bus/pci/devices/0000:41:00.4/nvidia/current_vgpu_type*'
        (Get-Content -Raw $file).Trim() | Should -Be '0'
        $set = Set-PciVgpuType -Root $root -Address 0000:41:00.4 -Type 'NVIDIA A10-1Q' -Confirm:$false
        $set.TypeId | Should -Be 590
        $set.Current | Should -BeTrue
        Get-Content -Raw $file | Should -Be '590'
        Set-PciVgpuType -Root $root -Address 0000:41:00.4 -Type 588 -Confirm:$false -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'VgpuTypeAlreadySet,*'
        Clear-PciVgpuType -Root $root -Address 0000:41:00.4 -RetryFor 0 -Confirm:$false
        Get-Content -Raw $file | Should -Be '0'
    }

    It 'refuses a type the VF does not list, naming what it does' {
        Set-PciVgpuType -Root $root -Address 0000:41:00.4 -Type A10-24Q -Confirm:$false -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'VgpuTypeNotCreatable,*'
        $errors[0].ErrorDetails.RecommendedAction | Should -BeLike '*588 (NVIDIA A10-1B), 590 (NVIDIA A10-1Q)*'
    }
}

Describe 'Enable-PciVgpuVirtualFunction' {
    BeforeAll {
        $script:bin = New-PciTestRoot
        $script:argvFile = Join-Path $bin 'argv'
        Set-Content -Path (Join-Path $bin 'sriov-manage') -Value "#!/bin/sh`nprintf '%s\n' `"`$@`" > '$argvFile'`necho enabled"
        & chmod +x (Join-Path $bin 'sriov-manage')
        $script:savedPath = $env:PATH
        $env:PATH = "$bin$([System.IO.Path]::PathSeparator)$env:PATH"
    }
    AfterAll {
        $env:PATH = $savedPath
        Remove-PciTestRoot $bin
    }

    It 'runs sriov-manage from PATH with -e and the address, as an argument vector' {
        Enable-PciVgpuVirtualFunction -Address 0000:41:00.0 -Confirm:$false | Should -Be 'enabled'
        Get-Content $argvFile | Should -Be @('-e', '0000:41:00.0')
        Enable-PciVgpuVirtualFunction ALL -Confirm:$false | Out-Null
        Get-Content $argvFile | Should -Be @('-e', 'ALL')
    }

    It 'runs nothing for a value that is no address, and nothing under a captured tree' {
        Remove-Item $argvFile -ErrorAction SilentlyContinue
        Enable-PciVgpuVirtualFunction -Address '0000:41:00.0 -d' -Confirm:$false -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'InvalidPciAddress,*'
        $tree = New-PciTestRoot
        try {
            { Enable-PciVgpuVirtualFunction -Root $tree -Address 0000:41:00.0 -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'VgpuNotSupported,*'
        }
        finally { Remove-PciTestRoot $tree }
        Test-Path $argvFile | Should -BeFalse
    }
}
