#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

BeforeAll {
    . (Join-Path $PSScriptRoot 'PciPassthrough.TestTree.ps1')
    Import-Module (Get-PciPassthroughModulePath) -Force
}

Describe 'Set-PciProbeFilter and Get-PciProbeFilter' {
    BeforeEach {
        $script:conf = Join-Path $TestDrive 'pci.conf'
        Set-Content -Path $conf -Value "# keep me`n:filter: '0:0'`n" -NoNewline
    }

    It 'writes only the keys given and keeps comments' {
        Set-PciProbeFilter -Path $conf -Filter '10de:*' -Confirm:$false | Select-Object -ExpandProperty Action | Should -Be 'Updated'
        (Get-PciProbeFilter -Path $conf).Filter | Should -Be '10de:*'
        Get-Content -Path $conf -TotalCount 1 | Should -Be '# keep me'
    }

    It '-WhatIf writes nothing' {
        Set-PciProbeFilter -Path $conf -Filter '*:*' -WhatIf
        (Get-PciProbeFilter -Path $conf).Filter | Should -Be '0:0'
    }

    It 'refuses a malformed filter with InvalidPciFilter' {
        { Set-PciProbeFilter -Path $conf -Filter '10de' -Confirm:$false } |
            Should -Throw -ErrorId 'InvalidPciFilter,PciPassthrough.PowerShell.Commands.SetPciProbeFilterCommand'
    }
}

Describe 'Set-VfioHostConfiguration' {
    BeforeAll {
        $script:root = New-PciTestRoot
        New-FakeIommuHost -Root $root
        New-FakePciDevice -Root $root -Address '0000:01:00.0' -Vendor '10de' -Device '1eb8' -Class '030200' -Driver 'nvidia' -IommuGroup 6
        New-Item -ItemType Directory -Force -Path (Join-Path $root 'etc/modprobe.d') | Out-Null
    }

    AfterAll {
        Remove-PciTestRoot $root
    }

    It '-WhatIf writes nothing' {
        Set-VfioHostConfiguration -Root $root -SoftdepDriver nvidia -SkipKernelCommandLine -Initramfs None -WhatIf
        Join-Path $root 'etc/modprobe.d/pcipassthrough-vfio.conf' | Should -Not -Exist
    }

    It 'writes the softdep, and a second run changes nothing' {
        (Set-VfioHostConfiguration -Root $root -SoftdepDriver nvidia -SkipKernelCommandLine -Initramfs None -Confirm:$false).Action | Should -Be 'Created'
        (Set-VfioHostConfiguration -Root $root -SoftdepDriver nvidia -SkipKernelCommandLine -Initramfs None -Confirm:$false).Action | Should -Be 'Unchanged'
        Get-Content (Join-Path $root 'etc/modprobe.d/pcipassthrough-vfio.conf') | Should -Contain 'softdep nvidia pre: vfio-pci'
    }

    It 'a call with one bad address writes nothing: the other device keeps its boot binding' {
        New-FakePciDevice -Root $root -Address '0000:02:00.0' -Vendor '10de' -Device '1eb8' -Class '030200' -Driver 'nvidia' -IommuGroup 7
        'usr/local/bin', 'etc/systemd/system', 'etc/sysconfig', 'etc/udev/rules.d' | ForEach-Object { New-Item -ItemType Directory -Force -Path (Join-Path $root $_) | Out-Null }
        $sysconfig = Join-Path $root 'etc/sysconfig/vfio-bind'
        Set-VfioHostConfiguration -Root $root -Address 0000:01:00.0, 0000:02:00.0 -SkipKernelCommandLine -Initramfs None -Confirm:$false | Out-Null
        $before = Get-Content -Raw $sysconfig
        $before | Should -BeLike '*DEVICES="0000:01:00.0 0000:02:00.0"*'
        # Letter O for the digit 0: the address is refused, and so is the whole call.
        { Set-VfioHostConfiguration -Root $root -Address 0000:01:00.0, 0000:02:00.O -SkipKernelCommandLine -Initramfs None -Confirm:$false -ErrorAction SilentlyContinue } |
            Should -Throw -ErrorId 'ConfigurationInputRejected,PciPassthrough.PowerShell.Commands.SetVfioHostConfigurationCommand'
        Get-Content -Raw $sysconfig | Should -BeExactly $before
    }
}
