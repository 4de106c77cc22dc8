#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

# Issue 12: what a hostile or broken host tree does to the configuration writers and readers.

BeforeAll {
    . (Join-Path $PSScriptRoot 'PciPassthrough.TestTree.ps1')
    Import-Module (Get-PciPassthroughModulePath) -Force

    function New-ConfigRoot {
        $r = New-PciTestRoot
        New-FakeIommuHost -Root $r
        New-FakePciDevice -Root $r -Address '0000:01:00.0' -Vendor '10de' -Device '1eb8' -Class '030200' -Driver 'nvidia' -IommuGroup 6
        'etc/modprobe.d', 'etc/default', 'usr/local/bin', 'etc/systemd/system', 'etc/sysconfig', 'etc/udev/rules.d', 'etc/libvirt' |
            ForEach-Object { New-Item -ItemType Directory -Force -Path (Join-Path $r $_) | Out-Null }
        Set-Content -NoNewline -Path (Join-Path $r 'etc/default/grub') -Value "GRUB_DEFAULT=0`nGRUB_CMDLINE_LINUX=`"quiet`"`n"
        Set-Content -NoNewline -Path (Join-Path $r 'etc/libvirt/qemu.conf') -Value "user = `"oneadmin`"`n"
        $r
    }

    # Every file under the tree's etc/ and usr/, with its content: what a failed run must leave as it was.
    function Get-ConfigState([string] $Root) {
        Get-ChildItem -Recurse -Force -File -Path (Join-Path $Root 'etc'), (Join-Path $Root 'usr') |
            Sort-Object FullName | ForEach-Object { "$($_.FullName.Substring($Root.Length))=$(Get-Content -Raw $_.FullName)" }
    }
}

Describe 'Set-VfioHostConfiguration writes its files as a set (D5)' {
    BeforeEach { $script:cfg = New-ConfigRoot }
    AfterEach { Remove-PciTestRoot $cfg }

    It 'a file that cannot be put in place leaves every file as it was, with no temp file or backup' {
        # The udev rule's name is taken by a directory, and qemu.conf comes after it.
        New-Item -ItemType Directory -Path (Join-Path $cfg 'etc/udev/rules.d/99-pcipassthrough-vfio.rules/keep') | Out-Null
        $before = Get-ConfigState $cfg
        { Set-VfioHostConfiguration -Root $cfg -Address 0000:01:00.0 -BlacklistDriver nouveau -Initramfs None -Confirm:$false } |
            Should -Throw -ErrorId 'ConfigurationWriteFailed,PciPassthrough.PowerShell.Commands.SetVfioHostConfigurationCommand'
        Get-ConfigState $cfg | Should -Be $before
    }

    It 'a successful run still writes every file and keeps a backup of each it changed' {
        $result = Set-VfioHostConfiguration -Root $cfg -Address 0000:01:00.0 -Initramfs None -Confirm:$false
        ($result | Where-Object Path -eq '/etc/default/grub').Backup | Should -BeLike '/etc/default/grub.*.pcipt.bak'
        Get-ChildItem -Force -Recurse -Path (Join-Path $cfg 'etc') -Filter '*.tmp' | Should -BeNullOrEmpty
        (Set-VfioHostConfiguration -Root $cfg -Address 0000:01:00.0 -Initramfs None -Confirm:$false).Action | Sort-Object -Unique | Should -Be 'Unchanged'
    }
}

Describe 'Configuration writers take a lock (D6)' {
    BeforeEach { $script:cfg = New-ConfigRoot }
    AfterEach { Remove-PciTestRoot $cfg }

    It 'two runs at once both take effect: neither blacklist entry is lost' {
        $module = Get-PciPassthroughModulePath
        $dotnet = (Get-Process -Id $PID).Path
        $pwshDll = Join-Path $PSHOME 'pwsh.dll'
        $runs = 'nouveau', 'radeon' | ForEach-Object {
            $command = "Import-Module '$module'; Set-VfioHostConfiguration -Root '$cfg' -BlacklistDriver $_ -Initramfs None -Confirm:`$false | Out-Null"
            Start-Process -FilePath $dotnet -ArgumentList $pwshDll, '-NoProfile', '-NonInteractive', '-Command', $command -PassThru
        }
        $runs | Wait-Process
        $runs.ExitCode | Should -Be 0, 0
        Get-Content (Join-Path $cfg 'etc/modprobe.d/pcipassthrough-blacklist.conf') | Should -Contain 'blacklist nouveau'
        Get-Content (Join-Path $cfg 'etc/modprobe.d/pcipassthrough-blacklist.conf') | Should -Contain 'blacklist radeon'
        # Whichever ran second planned from what the first wrote.
        Get-Content -Raw (Join-Path $cfg 'etc/default/grub') | Should -Match 'rd\.driver\.blacklist=(nouveau,radeon|radeon,nouveau)"'
    }

    It 'a lock file planted by another user is refused with LockFileNotTrusted, and nothing is written' {
        $lock = Join-Path $cfg 'run/lock/pcipassthrough-config.lock'
        New-Item -ItemType Directory -Force -Path (Split-Path $lock) | Out-Null
        Set-Content -Path $lock -Value ''
        & chown 65534:65534 $lock
        $before = Get-ConfigState $cfg
        { Set-VfioHostConfiguration -Root $cfg -BlacklistDriver nouveau -Initramfs None -Confirm:$false } |
            Should -Throw -ErrorId 'LockFileNotTrusted,PciPassthrough.PowerShell.Commands.SetVfioHostConfigurationCommand'
        Get-ConfigState $cfg | Should -Be $before
    }

    It '-WhatIf takes no lock and writes no lock file' {
        Set-VfioHostConfiguration -Root $cfg -BlacklistDriver nouveau -Initramfs None -WhatIf
        Join-Path $cfg 'run/lock/pcipassthrough-config.lock' | Should -Not -Exist
    }
}

Describe 'Every -Path reader refuses a FIFO or a device node by name instead of hanging or exhausting memory (D16)' {
    BeforeAll {
        $script:fifo = Join-Path $TestDrive 'fifo'
        & mkfifo $fifo
    }

    It '<Name> -Path <File>' -ForEach @(
        @{ Name = 'Get-PciProbeFilter'; File = 'fifo'; ErrorId = 'ProbeFilterFileUnreadable,PciPassthrough.PowerShell.Commands.GetPciProbeFilterCommand' }
        @{ Name = 'Get-PciProbeFilter'; File = '/dev/zero'; ErrorId = 'ProbeFilterFileUnreadable,PciPassthrough.PowerShell.Commands.GetPciProbeFilterCommand' }
        @{ Name = 'ConvertFrom-PciTemplateSection'; File = 'fifo'; ErrorId = 'PciTemplateUnreadable,PciPassthrough.PowerShell.Commands.ConvertFromPciTemplateSectionCommand' }
        @{ Name = 'ConvertFrom-PciTemplateSection'; File = '/dev/zero'; ErrorId = 'PciTemplateUnreadable,PciPassthrough.PowerShell.Commands.ConvertFromPciTemplateSectionCommand' }
        @{ Name = 'Import-PciHostInventory'; File = 'fifo'; ErrorId = 'PciHostInventoryUnreadable,PciPassthrough.PowerShell.Commands.ImportPciHostInventoryCommand' }
        @{ Name = 'Import-PciHostInventory'; File = '/dev/zero'; ErrorId = 'PciHostInventoryUnreadable,PciPassthrough.PowerShell.Commands.ImportPciHostInventoryCommand' }
    ) {
        $target = if ($File -eq 'fifo') { $fifo } else { $File }
        $err = $null
        try { & $Name -Path $target -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be $ErrorId
        $err.Exception.Message | Should -Match ([regex]::Escape($target))
        $err.Exception.Message | Should -Match 'FIFO|character device'
    }
}

Describe 'pci.conf values Ruby reads as nil (D10)' {
    BeforeEach {
        $script:dir = New-PciTestRoot
        $script:conf = Join-Path $dir 'pci.conf'
    }
    AfterEach { Remove-PciTestRoot $dir }

    It 'an empty :filter: lists every device, as pci.rb runs lspci without -d' {
        Set-Content -NoNewline -Path $conf -Value ":filter:`n"
        (Get-PciProbeFilter -Path $conf).Filter | Should -Be '*:*'
    }

    It 'an empty :short_address: is shown with a warning, and Set-PciProbeFilter writes nothing until it gets a value' {
        Set-Content -NoNewline -Path $conf -Value ":filter: '0:0'`n:short_address:`n"
        $read = Get-PciProbeFilter -Path $conf -WarningVariable warned 3>$null
        $read.UnusableKeys | Should -Be ':short_address'
        "$warned" | Should -BeLike '*-ShortAddress*'

        { Set-PciProbeFilter -Path $conf -Filter '10de:*' -Confirm:$false } |
            Should -Throw -ErrorId 'ProbeFilterValueUnusable,PciPassthrough.PowerShell.Commands.SetPciProbeFilterCommand'
        Get-Content -Raw $conf | Should -BeExactly ":filter: '0:0'`n:short_address:`n"

        Set-PciProbeFilter -Path $conf -Filter '10de:*' -ShortAddress @() -Confirm:$false | Out-Null
        (Get-Content -Raw $conf).StartsWith(":filter: '10de:*'`n:short_address: []`n") | Should -BeTrue
        (Get-PciProbeFilter -Path $conf).UnusableKeys | Should -BeNullOrEmpty
    }

    It 'an empty file is refused by the readers as pci.rb refuses it, and written as new by Set-PciProbeFilter' {
        Set-Content -NoNewline -Path $conf -Value "# nothing yet`n"
        { Get-PciProbeFilter -Path $conf } | Should -Throw -ErrorId 'InvalidProbeFilterFile,PciPassthrough.PowerShell.Commands.GetPciProbeFilterCommand'
        Set-PciProbeFilter -Path $conf -Filter '10de:*' -Confirm:$false | Out-Null
        (Get-PciProbeFilter -Path $conf).Filter | Should -Be '10de:*'
    }
}

Describe 'Foreign bytes and links in files the module edits (D20)' {
    BeforeEach {
        $script:cfg = New-ConfigRoot
        $script:grub = Join-Path $cfg 'etc/default/grub'
    }
    AfterEach { Remove-PciTestRoot $cfg }

    It 'a Latin-1 line and a byte order mark keep their bytes; only the edited line changes' {
        $enc = [System.Text.Encoding]::Latin1
        $head = [byte[]](0xEF, 0xBB, 0xBF) + $enc.GetBytes("# Caf") + [byte[]](0xE9) + $enc.GetBytes("`r`nGRUB_DEFAULT=0`r`n")
        [System.IO.File]::WriteAllBytes($grub, $head + $enc.GetBytes("GRUB_CMDLINE_LINUX=`"quiet`"`r`n"))

        Set-VfioHostConfiguration -Root $cfg -Address 0000:01:00.0 -Initramfs None -Confirm:$false | Out-Null

        $after = [System.IO.File]::ReadAllBytes($grub)
        [byte[]]$after[0..($head.Length - 1)] | Should -Be $head
        $enc.GetString($after, $head.Length, $after.Length - $head.Length) | Should -Match '^GRUB_CMDLINE_LINUX="quiet intel_iommu=on[^"\r\n]*"\r\n$'
    }

    It 'a UTF-8 file with a byte order mark keeps it' {
        [System.IO.File]::WriteAllBytes($grub, [byte[]](0xEF, 0xBB, 0xBF) + [System.Text.Encoding]::UTF8.GetBytes("# Café`nGRUB_CMDLINE_LINUX=`"quiet`"`n"))
        Set-VfioHostConfiguration -Root $cfg -Address 0000:01:00.0 -Initramfs None -Confirm:$false | Out-Null
        $after = [System.IO.File]::ReadAllBytes($grub)
        [byte[]]$after[0..2] | Should -Be @(0xEF, 0xBB, 0xBF)
        [System.Text.Encoding]::UTF8.GetString($after, 3, $after.Length - 3) | Should -BeLike "# Café`nGRUB_CMDLINE_LINUX=`"quiet intel_iommu=on*"
    }

    It 'a linked grub file stays a link, and the file it points to is changed and backed up' {
        Move-Item $grub "$grub.real"
        New-Item -ItemType SymbolicLink -Path $grub -Target 'grub.real' | Out-Null

        $changes = Set-VfioHostConfiguration -Root $cfg -Address 0000:01:00.0 -Initramfs None -Confirm:$false

        (Get-Item $grub).LinkTarget | Should -Be 'grub.real'
        Get-Content -Raw "$grub.real" | Should -BeLike '*intel_iommu=on*'
        ($changes | Where-Object Path -eq '/etc/default/grub').Backup | Should -BeLike '/etc/default/grub.real.*.pcipt.bak'
        Test-Path -LiteralPath (Join-Path $cfg ($changes | Where-Object Path -eq '/etc/default/grub').Backup) | Should -BeTrue
    }

    It 'a grub link that leaves the root is refused, and the file outside is not touched' {
        $outside = New-PciTestRoot
        try {
            Set-Content -NoNewline -Path (Join-Path $outside 'grub') -Value "GRUB_CMDLINE_LINUX=`"quiet`"`n"
            Remove-Item $grub
            New-Item -ItemType SymbolicLink -Path $grub -Target (Join-Path $outside 'grub') | Out-Null
            { Set-VfioHostConfiguration -Root $cfg -Address 0000:01:00.0 -Initramfs None -Confirm:$false } |
                Should -Throw -ErrorId 'PathOutsideRoot,PciPassthrough.PowerShell.Commands.SetVfioHostConfigurationCommand'
            Get-Content -Raw (Join-Path $outside 'grub') | Should -BeExactly "GRUB_CMDLINE_LINUX=`"quiet`"`n"
            @(Get-ChildItem -Force $outside).Count | Should -Be 1
        }
        finally {
            Remove-PciTestRoot $outside
        }
    }
}
