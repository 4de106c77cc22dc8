#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

# Set-PciResetMethod -Persist and Test-VfioHostConfiguration's ResetMethodDrift, against a fake host tree.
BeforeAll {
    . (Join-Path $PSScriptRoot 'PciPassthrough.TestTree.ps1')
    Import-Module (Get-PciPassthroughModulePath) -Force
    $script:rulePath = 'etc/udev/rules.d/99-pcipassthrough-reset.rules'
    function New-ResetHost {
        $r = New-PciTestRoot
        New-FakePciDevice -Root $r -Address 0000:01:00.0 -Driver e1000e -ResetMethod 'pm bus' -IommuGroup 1
        New-FakePciDevice -Root $r -Address 0000:02:00.0 -Driver e1000e -ResetMethod 'flr' -IommuGroup 2
        New-Item -ItemType Directory -Force -Path (Join-Path $r 'etc/udev') | Out-Null
        $r
    }
}

Describe 'Set-PciResetMethod -Persist' {
    BeforeEach { $script:hv = New-ResetHost }
    AfterEach { Remove-PciTestRoot $hv }

    It 'writes the method now and a udev rule for the next boot' {
        Set-PciResetMethod -Root $hv -Address 0000:01:00.0 -Method bus -Persist -Confirm:$false
        Get-Content -Raw (Join-Path $hv 'sys/bus/pci/devices/0000:01:00.0/reset_method') | Should -BeExactly "bus`n"
        $rules = Get-Content (Join-Path $hv $rulePath)
        $rules[-1] | Should -BeExactly 'ACTION=="add", SUBSYSTEM=="pci", KERNEL=="0000:01:00.0", ATTR{reset_method}="bus"'
    }

    It 'persists -Disable with echo (the newline) and -Default as no line' {
        Get-PciDevice -Root $hv | Set-PciResetMethod -Root $hv -Disable -Persist -Confirm:$false
        (Get-Content (Join-Path $hv $rulePath) | Select-String 'echo > /sys\$env\{DEVPATH\}/reset_method').Count | Should -Be 2
        Set-PciResetMethod -Root $hv -Address 0000:02:00.0 -Default -Persist -Confirm:$false
        $rules = Get-Content (Join-Path $hv $rulePath)
        ($rules | Select-String 'KERNEL==').Line | Should -BeLike '*KERNEL=="0000:01:00.0"*'
        @($rules | Select-String 'KERNEL==').Count | Should -Be 1
    }

    It '-WhatIf lists the live write and the rule file diff, and writes nothing' {
        $out = Invoke-ChildPwsh -Root $hv -Script {
            param($Root)
            Set-PciResetMethod -Root $Root -Address 0000:01:00.0 -Method bus -Persist -WhatIf
        }
        $out.Output | Should -Match "reset_method of 0000:01:00.0 .*'pm bus' -> 'bus'"
        $out.Output | Should -Match '\+ACTION=="add", SUBSYSTEM=="pci", KERNEL=="0000:01:00.0", ATTR\{reset_method\}="bus"'
        Test-Path (Join-Path $hv $rulePath) | Should -BeFalse
        Get-Content -Raw (Join-Path $hv 'sys/bus/pci/devices/0000:01:00.0/reset_method') | Should -BeExactly "pm bus`n"
    }

    It 'Test-VfioHostConfiguration reports a device that does not run with its persisted methods' {
        (Test-VfioHostConfiguration -Root $hv | Where-Object Name -EQ ResetMethodDrift).Status | Should -Be 'NotApplicable'
        Set-PciResetMethod -Root $hv -Address 0000:01:00.0 -Method bus -Persist -Confirm:$false
        (Test-VfioHostConfiguration -Root $hv | Where-Object Name -EQ ResetMethodDrift).Status | Should -Be 'Pass'
        Set-Content -Path (Join-Path $hv 'sys/bus/pci/devices/0000:01:00.0/reset_method') -Value 'pm bus'
        $check = Test-VfioHostConfiguration -Root $hv | Where-Object Name -EQ ResetMethodDrift
        $check.Status | Should -Be 'Warning'
        $check.Detail | Should -BeExactly "0000:01:00.0 runs with 'pm bus', its rule sets 'bus'."
        $check.Remedy | Should -BeLike '*udevadm trigger*'
    }
}

Describe 'Reset-PciDevice and NVIDIA vGPU VFs' {
    BeforeAll {
        $script:gpu = New-PciTestRoot
        New-FakePciDevice -Root $gpu -Address 0000:41:00.0 -Vendor 10de -Device 2236 -Class 030200 -Driver nvidia -IommuGroup 40
        New-FakePciDevice -Root $gpu -Address 0000:41:00.4 -Vendor 10de -Device 2236 -Class 030200 -Driver nvidia -IommuGroup 41
        New-Item -ItemType SymbolicLink -Path (Join-Path $gpu 'sys/devices/pci0000:41/0000:41:00.4/physfn') -Target '../0000:41:00.0' | Out-Null
    }
    AfterAll { Remove-PciTestRoot $gpu }

    It 'refuses a vendor-mode vGPU VF, even with -Method, and writes nothing' {
        $e = { Reset-PciDevice -Root $gpu -Address 0000:41:00.4 -Method flr -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'VgpuVirtualFunction,*' -PassThru
        $e.ErrorDetails.RecommendedAction | Should -BeLike '*Never reset a vGPU VF*'
        Get-Content -Raw (Join-Path $gpu 'sys/bus/pci/devices/0000:41:00.4/reset_method') | Should -BeExactly "flr`n"
    }
}

Describe 'Reset-PciDevice -Subordinate' {
    BeforeAll {
        # A root port 00:1c.0 with a NIC below it, as sysfs nests them.
        $script:tree = New-PciTestRoot
        New-FakePciDevice -Root $tree -Address 0000:00:1c.0 -Vendor 8086 -Device a110 -Class 060400 -Driver pcieport -IommuGroup 7 -ResetMethod '' -HeaderType 1
        New-FakePciDevice -Root $tree -Address 0000:01:00.0 -Device 10d3 -Driver e1000e -IommuGroup 8 -ResetMethod 'pm bus' -Parent 0000:00:1c.0 -HeaderType 0
        $script:sub = Join-Path $tree 'sys/bus/pci/devices/0000:00:1c.0/reset_subordinate'
    }
    AfterAll { Remove-PciTestRoot $tree }
    BeforeEach { Set-Content -Path $sub -Value '' -NoNewline }

    It '-WhatIf names every device below the bridge and writes nothing' {
        $r = Invoke-ChildPwsh -Root $tree -Script { param($Root) Reset-PciDevice -Root $Root -Address 0000:00:1c.0 -Subordinate -WhatIf }
        ($r.Output -replace '\s+', ' ') | Should -BeLike '*What if: reset everything below 0000:00:1c.0 (*) with a secondary bus reset (reset_subordinate): 0000:01:00.0 (*, bound to e1000e); their drivers are notified*'
        Get-Content -Raw $sub | Should -BeNullOrEmpty
    }

    It 'writes 1 to reset_subordinate and returns the devices below' {
        $r = Reset-PciDevice -Root $tree -Address 0000:00:1c.0 -Subordinate -Confirm:$false
        $r.DevicesBelow | Should -Be @('0000:01:00.0')
        $r.Succeeded | Should -BeTrue
        Get-Content -Raw $sub | Should -BeExactly '1'
    }

    It 'still refuses the bridge without -Subordinate, and says how to ask' {
        $e = { Reset-PciDevice -Root $tree -Address 0000:00:1c.0 -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'DeviceIsNotAnEndpoint,*' -PassThru
        $e.ErrorDetails.RecommendedAction | Should -BeLike '*-Subordinate*'
    }
}
