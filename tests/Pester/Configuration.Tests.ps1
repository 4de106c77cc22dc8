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

    It 'refuses to create a missing probe folder, also under -WhatIf' {
        $missing = Join-Path $TestDrive 'no-such-folder' 'pci.conf'
        foreach ($preview in $true, $false) {
            { Set-PciProbeFilter -Path $missing -Filter '10de:*' -WhatIf:$preview -Confirm:$false } |
                Should -Throw -ErrorId 'ConfigurationWriteFailed,PciPassthrough.PowerShell.Commands.SetPciProbeFilterCommand'
        }
        Split-Path $missing | Should -Not -Exist
    }

    It 'refuses to write outside -Root through a linked folder (D8)' {
        $tree = New-PciTestRoot
        $outside = New-PciTestRoot
        try {
            New-Item -ItemType Directory -Force -Path (Join-Path $outside 'remotes/etc/im/kvm-probes.d'), (Join-Path $tree 'var/lib') | Out-Null
            Set-Content -NoNewline -Path (Join-Path $outside 'remotes/etc/im/kvm-probes.d/pci.conf') -Value ":filter: '0:0'`n"
            New-Item -ItemType SymbolicLink -Path (Join-Path $tree 'var/lib/one') -Target $outside | Out-Null
            { Set-PciProbeFilter -Root $tree -Filter '10de:*' -Confirm:$false } |
                Should -Throw -ErrorId 'PathOutsideRoot,PciPassthrough.PowerShell.Commands.SetPciProbeFilterCommand'
            Get-Content -Raw (Join-Path $outside 'remotes/etc/im/kvm-probes.d/pci.conf') | Should -BeExactly ":filter: '0:0'`n"
            @(Get-ChildItem (Join-Path $outside 'remotes/etc/im/kvm-probes.d')).Count | Should -Be 1
        }
        finally {
            Remove-PciTestRoot $tree
            Remove-PciTestRoot $outside
        }
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

    It 'adding a card the documented way keeps the cards bound at boot before; -Replace warns for each that leaves (issue 24)' {
        New-FakePciDevice -Root $root -Address '0000:03:00.0' -Vendor '10de' -Device '1eb8' -Class '030200' -Driver 'nvidia' -IommuGroup 8
        $sysconfig = Join-Path $root 'etc/sysconfig/vfio-bind'
        Set-VfioHostConfiguration -Root $root -Address 0000:01:00.0 -Replace -SkipKernelCommandLine -Initramfs None -Confirm:$false -WarningAction SilentlyContinue | Out-Null
        Get-PciDevice -Root $root -Address 0000:03:00.0 | Set-VfioHostConfiguration -SkipKernelCommandLine -Initramfs None -Confirm:$false | Out-Null
        Get-Content -Raw $sysconfig | Should -BeLike '*DEVICES="0000:01:00.0 0000:03:00.0"*'
        Set-VfioHostConfiguration -Root $root -Address 0000:03:00.0 -Replace -SkipKernelCommandLine -Initramfs None -WhatIf -WarningVariable left -WarningAction SilentlyContinue
        $left.Message | Should -Be '0000:01:00.0 leaves the boot binding (-Replace): after the next boot it stays on its host driver.'
        Get-Content -Raw $sysconfig | Should -BeLike '*DEVICES="0000:01:00.0 0000:03:00.0"*'
    }

    It 'reports a boot-bound device that is still on its host driver as a failure, naming the driver (issue 24)' {
        $row = Test-VfioHostConfiguration -Root $root | Where-Object Name -eq 'BootBindDevices'
        "$($row.Status)" | Should -Be 'Fail'
        $row.Detail | Should -BeLike '*0000:01:00.0 (*) is on nvidia, not vfio-pci*'
    }
}

Describe 'The driver blacklist is one list' {
    BeforeAll {
        $script:bl = New-PciTestRoot
        New-FakeIommuHost -Root $bl
        New-FakePciDevice -Root $bl -Address '0000:01:00.0' -Vendor '10de' -Device '1eb8' -Class '030200' -Driver 'nouveau' -IommuGroup 6
        'etc/modprobe.d', 'etc/default' | ForEach-Object { New-Item -ItemType Directory -Force -Path (Join-Path $bl $_) | Out-Null }
        Set-Content -NoNewline -Path (Join-Path $bl 'etc/default/grub') -Value "GRUB_DEFAULT=0`nGRUB_CMDLINE_LINUX=`"quiet intel_iommu=sm_on`"`n"
        function Get-Blacklist { (Get-Content (Join-Path $bl 'etc/modprobe.d/pcipassthrough-blacklist.conf') | Where-Object { $_ -match '^blacklist (\S+)$' -and $Matches[1] -ne 'lbm-nouveau' } | ForEach-Object { $_.Split(' ')[1] }) }
        function Get-GrubLine { (Get-Content (Join-Path $bl 'etc/default/grub') | Where-Object { $_ -like 'GRUB_CMDLINE_LINUX=*' }) }
    }

    AfterAll {
        Remove-PciTestRoot $bl
    }

    It 'a second -BlacklistDriver keeps the first, in modprobe.d and on the command line alike' {
        Set-VfioHostConfiguration -Root $bl -BlacklistDriver nouveau -Initramfs None -Confirm:$false | Out-Null
        Set-VfioHostConfiguration -Root $bl -BlacklistDriver radeon -Initramfs None -Confirm:$false | Out-Null
        Get-Blacklist | Should -Be @('nouveau', 'radeon')
        Get-GrubLine | Should -BeExactly 'GRUB_CMDLINE_LINUX="quiet intel_iommu=on,sm_on rd.driver.pre=vfio-pci rd.driver.blacklist=nouveau,radeon"'
        (Test-VfioHostConfiguration -Root $bl | Where-Object Name -eq 'BlacklistAgreement').Status | Should -Be 'Pass'
    }

    It '-RemoveBlacklistDriver takes one off both places' {
        Set-VfioHostConfiguration -Root $bl -RemoveBlacklistDriver nouveau -Initramfs None -Confirm:$false | Out-Null
        Get-Blacklist | Should -Be @('radeon')
        Get-GrubLine | Should -BeExactly 'GRUB_CMDLINE_LINUX="quiet intel_iommu=on,sm_on rd.driver.pre=vfio-pci rd.driver.blacklist=radeon"'
    }

    It 'a blacklist edited by hand on one side is reported as disagreeing' {
        Add-Content -Path (Join-Path $bl 'etc/modprobe.d/pcipassthrough-blacklist.conf') -Value 'blacklist amdgpu'
        $finding = Test-VfioHostConfiguration -Root $bl | Where-Object Name -eq 'BlacklistAgreement'
        $finding.Status | Should -Be 'Warning'
        $finding.Detail | Should -BeLike '*only in the file: amdgpu*'
    }

    It 'refuses to blacklist <Driver>, which vfio needs, and writes nothing' -TestCases @(
        @{ Driver = 'vfio-pci' }, @{ Driver = 'vfio_iommu_type1' }, @{ Driver = 'kvm' }
    ) {
        $before = Get-Content -Raw (Join-Path $bl 'etc/modprobe.d/pcipassthrough-blacklist.conf')
        { Set-VfioHostConfiguration -Root $bl -BlacklistDriver $Driver -Initramfs None -Confirm:$false } |
            Should -Throw -ErrorId 'InvalidBlacklistDriver,PciPassthrough.PowerShell.Commands.SetVfioHostConfigurationCommand'
        Get-Content -Raw (Join-Path $bl 'etc/modprobe.d/pcipassthrough-blacklist.conf') | Should -BeExactly $before
    }
}

Describe 'Boot loaders beyond GRUB' {
    BeforeEach {
        $script:pve = New-PciTestRoot
        New-FakeIommuHost -Root $pve
        'etc/kernel', 'etc/default', 'proc' | ForEach-Object { New-Item -ItemType Directory -Force -Path (Join-Path $pve $_) | Out-Null }
        Set-Content -NoNewline -Path (Join-Path $pve 'etc/kernel/proxmox-boot-uuids') -Value "A1B2-C3D4`n"
        Set-Content -NoNewline -Path (Join-Path $pve 'etc/kernel/cmdline') -Value "root=ZFS=rpool/ROOT/pve-1 boot=zfs`n"
        Set-Content -NoNewline -Path (Join-Path $pve 'etc/default/grub') -Value "GRUB_CMDLINE_LINUX=`"quiet`"`n"
        Set-Content -NoNewline -Path (Join-Path $pve 'proc/cmdline') -Value "initrd=\EFI\proxmox\initrd.img root=ZFS=rpool/ROOT/pve-1 boot=zfs`n"
    }

    AfterEach {
        Remove-PciTestRoot $pve
    }

    It 'a Proxmox VE host booted by systemd-boot gets its arguments in /etc/kernel/cmdline, and GRUB is left alone' {
        $info = Set-VfioHostConfiguration -Root $pve -Iommu Intel -IommuPassthrough -Initramfs None -Confirm:$false 6>&1
        Get-Content -Raw (Join-Path $pve 'etc/kernel/cmdline') | Should -BeExactly "root=ZFS=rpool/ROOT/pve-1 boot=zfs intel_iommu=on iommu=pt`n"
        Get-Content -Raw (Join-Path $pve 'etc/default/grub') | Should -BeExactly "GRUB_CMDLINE_LINUX=`"quiet`"`n"
        ($info | Where-Object { $_ -is [System.Management.Automation.InformationRecord] }).MessageData.Message | Should -BeLike '*proxmox-boot-tool refresh*'
        $config = Get-VfioHostConfiguration -Root $pve
        $config.BootLoader | Should -Be 'ProxmoxBootTool'
        $config.BootCommandLine | Should -Contain 'iommu=pt'
        (Test-VfioHostConfiguration -Root $pve | Where-Object Name -eq 'KernelCommandLine').Detail | Should -BeLike '/etc/kernel/cmdline has *'
    }

    It '-BootLoader SystemdBoot on a host without /etc/kernel/cmdline starts it from the running command line' {
        Remove-Item (Join-Path $pve 'etc/kernel/cmdline'), (Join-Path $pve 'etc/kernel/proxmox-boot-uuids')
        Set-VfioHostConfiguration -Root $pve -BootLoader SystemdBoot -Iommu Intel -Initramfs None -Confirm:$false | Out-Null
        Get-Content -Raw (Join-Path $pve 'etc/kernel/cmdline') | Should -BeExactly "root=ZFS=rpool/ROOT/pve-1 boot=zfs intel_iommu=on`n"
    }

    It 'never writes a new /etc/kernel/cmdline without root=, also not as a preview' {
        Remove-Item (Join-Path $pve 'etc/kernel/cmdline')
        Set-Content -NoNewline -Path (Join-Path $pve 'proc/cmdline') -Value "quiet`n"
        foreach ($preview in $true, $false) {
            { Set-VfioHostConfiguration -Root $pve -BootLoader SystemdBoot -Initramfs None -WhatIf:$preview -Confirm:$false } |
                Should -Throw -ErrorId 'KernelCommandLineUnknown,PciPassthrough.PowerShell.Commands.SetVfioHostConfigurationCommand'
        }
        Join-Path $pve 'etc/kernel/cmdline' | Should -Not -Exist
    }
}
