#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

# SR-IOV as a user types it, on a fixture tree (no kernel stands behind it: the real-kernel tests
# create VFs). What a fixture can show: the listing, -WhatIf, the refusals, and the autoprobe write.
BeforeAll {
    . (Join-Path $PSScriptRoot 'PciPassthrough.TestTree.ps1')
    Import-Module (Get-PciPassthroughModulePath) -Force
    $env:PCIPT_REPO_ROOT = (Resolve-Path (Join-Path $PSScriptRoot .. ..)).Path
    $script:root = New-PciTestRoot
    New-FakeSriovHost -Root $root
    function Get-TreeState { Get-ChildItem -Recurse -Force -File (Join-Path $root 'sys/devices') | ForEach-Object { "$($_.FullName)=$(Get-Content -Raw $_.FullName)" } }
}

AfterAll {
    Remove-PciTestRoot $root
}

Describe 'Get-PciVirtualFunction' {
    It 'lists every VF with its PF, index, driver, group, guest and interfaces' {
        $vfs = Get-PciVirtualFunction -Root $root
        $vfs.PciAddress | Should -Be @('0000:02:10.0', '0000:02:10.4')
        $vfs.Index | Should -Be @(0, 1)
        $vfs.PhysicalFunction | Should -Be @('0000:02:00.0', '0000:02:00.0')
        $vfs.Driver | Should -Be @('igbvf', 'vfio-pci')
        $vfs.IommuGroup | Should -Be @(8, 9)
        $vfs[0].NetworkInterface | Should -Be 'enp2s16'
        $vfs.PhysicalFunctionInterface | Should -Be @('enp2s0f0', 'enp2s0f0')
        $vfs[1].InUse.VmId | Should -Be 7
        ($vfs | Out-String -Width 250) | Should -BeLike '*PfInterface*0000:02:10.4*enp2s0f0*'
    }

    It 'takes PFs piped from Get-PciDevice, and a VF by its address' {
        (Get-PciDevice -Root $root | Where-Object SriovRole -eq 'PF' | Get-PciVirtualFunction).PciAddress | Should -Be @('0000:02:10.0', '0000:02:10.4')
        (Get-PciVirtualFunction -Root $root -Address 0000:02:10.4, 0000:02:00.0).PciAddress | Should -Be @('0000:02:10.4', '0000:02:10.0')
    }

    It 'refuses a VF as -PhysicalFunction and a plain device with NotAnSriovPhysicalFunction' {
        Get-PciVirtualFunction -Root $root -PhysicalFunction 0000:02:10.0 -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errors[0].FullyQualifiedErrorId | Should -Be 'NotAnSriovPhysicalFunction,PciPassthrough.PowerShell.Commands.GetPciVirtualFunctionCommand'
        New-FakePciDevice -Root $root -Address '0000:00:1f.2' -Device '2922' -Class '010601' -Driver 'ahci' -IommuGroup 5
        Get-PciVirtualFunction -Root $root -Address 0000:00:1f.2 -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -Be 'NotAnSriovPhysicalFunction,PciPassthrough.PowerShell.Commands.GetPciVirtualFunctionCommand'
    }

    It 'shows the PF side on Get-PciDevice' {
        $pf = Get-PciDevice -Root $root -Address 0000:02:00.0
        $pf.DriversAutoprobe, $pf.VfOffset, $pf.VfStride, $pf.VfDeviceId | Should -Be @($true, 128, 4, '1520')
        (Get-PciDevice -Root $root -Address 0000:02:10.0).VfOffset | Should -BeNullOrEmpty
    }
}

Describe 'Set-PciVirtualFunctionCount' {
    It '-WhatIf lists the exact writes and the VFs that would appear, and writes nothing' {
        $before = Get-TreeState
        $result = Invoke-ChildPwsh -Root $root -Script {
            param($Root)
            Set-PciVirtualFunctionCount -Root $Root -Address 0000:08:00.0 -Count 2 -WhatIf
        }
        $result.Output | Should -BeLike "*What if: PF 0000:08:00.0 (pci-pf-stub): 0 -> 2 VFs: write '0' to /sys/bus/pci/devices/0000:08:00.0/sriov_drivers_autoprobe; write '2' to /sys/bus/pci/devices/0000:08:00.0/sriov_numvfs; VFs 0000:08:00.1, 0000:08:00.2 would be created*"
        Get-TreeState | Should -Be $before
    }

    It 'refuses <Why> with <Id> and writes nothing' -TestCases @(
        @{ Why = 'VFs a guest holds, even with -Force'; Address = '0000:02:00.0'; Count = 0; Force = $true; Id = 'VirtualFunctionInUse' }
        @{ Why = 'more VFs than sriov_totalvfs'; Address = '0000:08:00.0'; Count = 5; Force = $false; Id = 'VirtualFunctionCountOutOfRange' }
        @{ Why = 'a PF without a driver'; Address = '0000:09:00.0'; Count = 2; Force = $true; Id = 'PhysicalFunctionHasNoDriver' }
        @{ Why = 'a VF'; Address = '0000:02:10.0'; Count = 1; Force = $false; Id = 'NotAnSriovPhysicalFunction' }
    ) {
        $before = Get-TreeState
        Set-PciVirtualFunctionCount -Root $root -Address $Address -Count $Count -Force:$Force -Confirm:$false -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errors[0].FullyQualifiedErrorId | Should -Be "$Id,PciPassthrough.PowerShell.Commands.SetPciVirtualFunctionCountCommand"
        $errors[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        Get-TreeState | Should -Be $before
    }

    It 'writes sriov_drivers_autoprobe through the module''s safe writer and returns the change' {
        $change = Set-PciVirtualFunctionCount -Root $root -Address 0000:08:00.0 -Count 0 -DriversAutoprobe $false -Confirm:$false
        $change.PciAddress, $change.PreviousNumVfs, $change.NumVfs, $change.DriversAutoprobe | Should -Be @('0000:08:00.0', 0, 0, $false)
        (Get-Content (Join-Path $root 'sys/bus/pci/devices/0000:08:00.0/sriov_drivers_autoprobe')) | Should -Be '0'
        ($change | Out-String -Width 250) | Should -BeLike '*NumVfs*Autoprobe*'
    }

    It 'says when there is nothing to do' {
        Set-PciVirtualFunctionCount -Root $root -Address 0000:08:00.0 -Count 0 -Confirm:$false -InformationVariable said | Out-Null
        "$said" | Should -BeLike '*already has 0 VFs*'
    }
}

Describe 'VF network configuration with a fake ip on PATH' {
    BeforeAll {
        # A fake ip that records each argv and prints a fixture for ip -j: never the real ip.
        $script:fakeDir = Join-Path ([System.IO.Path]::GetTempPath()) "pcipt-fakeip-$([guid]::NewGuid().ToString('n'))"
        New-Item -ItemType Directory -Path $fakeDir | Out-Null
        $script:argvLog = Join-Path $fakeDir 'argv.log'
        $json = Join-Path $env:PCIPT_REPO_ROOT 'tests/PciPassthrough.TestSupport/IpLink/igb-vfs.json'
        Set-Content -Path (Join-Path $fakeDir 'ip') -Value @"
#!/bin/sh
for a in "`$@"; do printf '[%s]' "`$a"; done >> '$argvLog'
echo >> '$argvLog'
if [ "`$1" = -j ]; then cat '$json'; exit 0; fi
case "`$*" in *'vlan 999'*) echo 'RTNETLINK answers: Invalid argument' >&2; exit 2;; esac
exit 0
"@
        & chmod +x (Join-Path $fakeDir 'ip')
        $script:savedPath = $env:PATH
        $env:PATH = "$($fakeDir):$($env:PATH)"
    }

    AfterAll {
        $env:PATH = $savedPath
        [System.IO.Directory]::Delete($fakeDir, $true)
    }

    BeforeEach {
        if (Test-Path $argvLog) { Remove-Item $argvLog }
    }

    It 'Get-PciVirtualFunction -IncludeNetworkConfiguration reads ip''s JSON with one argv call per PF' {
        $vfs = Get-PciVirtualFunction -Root $root -IncludeNetworkConfiguration
        Get-Content $argvLog | Should -Be '[-j][-d][link][show][dev][enp2s0f0]'
        $vfs[0].MacAddress, $vfs[0].VlanId, $vfs[0].VlanQos, $vfs[0].VlanProtocol, $vfs[0].SpoofCheck, $vfs[0].Trust | Should -Be @('52:54:00:aa:bb:01', 100, 3, '802.1Q', $true, $false)
        $vfs[1].LinkState | Should -Be 'Enable'
        $vfs[1].VlanId | Should -BeNullOrEmpty
    }

    It 'Set-PciVirtualFunction runs one ip link set per VF and writes the VFs read again' {
        $out = Set-PciVirtualFunction -Root $root -PhysicalFunction 0000:02:00.0 -Index 0, 1 -VlanId 200 -VlanQos 2 -Trust $true -Confirm:$false
        $out.PciAddress | Should -Be @('0000:02:10.0', '0000:02:10.4')
        Get-Content $argvLog | Where-Object { $_ -like '*set*' } | Should -Be @(
            '[link][set][dev][enp2s0f0][vf][0][vlan][200][qos][2][trust][on]'
            '[link][set][dev][enp2s0f0][vf][1][vlan][200][qos][2][trust][on]'
        )
    }

    It '-Reset gives the safe defaults, and -WhatIf runs no set' {
        Set-PciVirtualFunction -Root $root -Address 0000:02:10.0 -Reset -WhatIf
        Get-Content $argvLog | Where-Object { $_ -like '*set*' } | Should -BeNullOrEmpty
        Set-PciVirtualFunction -Root $root -Address 0000:02:10.0 -Reset -Confirm:$false | Out-Null
        Get-Content $argvLog | Where-Object { $_ -like '*set*' } | Should -Be '[link][set][dev][enp2s0f0][vf][0][mac][00:00:00:00:00:00][vlan][0][max_tx_rate][0][min_tx_rate][0][spoofchk][on][state][auto][trust][off]'
    }

    It 'a failure rolls the call back and says so' {
        { Set-PciVirtualFunction -Root $root -Address 0000:02:10.0, 0000:02:10.4 -VlanId 999 -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'VirtualFunctionConfigurationFailed,PciPassthrough.PowerShell.Commands.SetPciVirtualFunctionCommand'
        (Get-Content $argvLog | Where-Object { $_ -like '*set*' }).Count | Should -Be 2 # the failing VF, restored
    }

    It 'refuses <Why> with <Id>' -TestCases @(
        @{ Why = 'a multicast MAC'; Arguments = @{ Address = '0000:02:10.0'; MacAddress = '01:00:5e:00:00:01' }; Id = 'InvalidMacAddress' }
        @{ Why = 'VLAN 4096'; Arguments = @{ Address = '0000:02:10.0'; VlanId = 4096 }; Id = 'InvalidVlanId' }
        @{ Why = 'a PF address'; Arguments = @{ Address = '0000:02:00.0'; VlanId = 1 }; Id = 'NotAnSriovPhysicalFunction' }
    ) {
        { Set-PciVirtualFunction -Root $root @Arguments -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId "$Id,PciPassthrough.PowerShell.Commands.SetPciVirtualFunctionCommand"
        Get-Content $argvLog -ErrorAction SilentlyContinue | Where-Object { $_ -like '*set*' } | Should -BeNullOrEmpty
    }

    It 'a journal left by a dead call shows in -WhatIf, is replayed first by the next call, and -ClearJournal drops one' {
        $journal = Join-Path $root 'run/pcipassthrough/vf-journal'
        New-Item -ItemType Directory -Force -Path (Split-Path $journal) | Out-Null
        Set-Content -Path $journal -Value "0000:02:10.0`t0000:02:00.0`tenp2s0f0`t0`tvlan 100 qos 3" -NoNewline
        $preview = Invoke-ChildPwsh -Root $root -Script {
            param($Root)
            Set-PciVirtualFunction -Root $Root -Address 0000:02:10.4 -Trust $false -WhatIf
        }
        $preview.Output | Should -BeLike '*What if:*0000:02:10.0: restore from the journal of an interrupted call: ip link set dev enp2s0f0 vf 0 vlan 100 qos 3*'
        Get-Content $argvLog -ErrorAction SilentlyContinue | Where-Object { $_ -like '*set*' } | Should -BeNullOrEmpty
        $journal | Should -Exist

        Set-PciVirtualFunction -Root $root -Address 0000:02:10.4 -Trust $false -Confirm:$false -WarningVariable warned 3>$null | Out-Null
        Get-Content $argvLog | Where-Object { $_ -like '*set*' } | Should -Be @('[link][set][dev][enp2s0f0][vf][0][vlan][100][qos][3]', '[link][set][dev][enp2s0f0][vf][1][trust][off]')
        "$warned" | Should -BeLike '*did not finish*'
        $journal | Should -Not -Exist

        Set-Content -Path $journal -Value "not a journal line"
        { Set-PciVirtualFunction -Root $root -Address 0000:02:10.4 -Trust $false -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'VirtualFunctionJournalUnreadable,PciPassthrough.PowerShell.Commands.SetPciVirtualFunctionCommand'
        Set-PciVirtualFunction -Root $root -ClearJournal -Confirm:$false
        $journal | Should -Not -Exist
    }

    Context 'VFs at boot (Set-, Get-, Test-VfioHostConfiguration)' {
        BeforeAll {
            'usr/local/bin', 'etc/systemd/system', 'etc/sysconfig' | ForEach-Object { New-Item -ItemType Directory -Force -Path (Join-Path $root $_) | Out-Null }
            $script:sriovConfig = Join-Path $root 'etc/sysconfig/pcipassthrough-sriov'
            $script:noBoot = @{ SkipKernelCommandLine = $true; Initramfs = 'None'; Root = $root }
        }

        It '-WhatIf writes nothing, and a count no PF can have is refused before any file' {
            Set-VfioHostConfiguration @noBoot -VirtualFunctionCount @{ '0000:08:00.0' = 'Max' } -WhatIf
            $sriovConfig | Should -Not -Exist
            { Set-VfioHostConfiguration @noBoot -VirtualFunctionCount @{ '0000:08:00.0' = 9 } -Confirm:$false -ErrorAction Stop } |
                Should -Throw -ErrorId 'VirtualFunctionCountOutOfRange,PciPassthrough.PowerShell.Commands.SetVfioHostConfigurationCommand'
            $sriovConfig | Should -Not -Exist
        }

        It 'writes the PFs with their ids, counts and VF attributes, the script and the unit, and says how to enable it' {
            $out = Set-VfioHostConfiguration @noBoot -VirtualFunctionCount @{ '0000:08:00.0' = 'Max'; '0000:02:00.0' = 2 } -Confirm:$false -InformationVariable info
            $out.Path | Should -Be @('/etc/sysconfig/pcipassthrough-sriov', '/usr/local/bin/pcipassthrough-sriov', '/etc/systemd/system/pcipassthrough-sriov.service')
            $out.Action | Should -Be @('Created', 'Created', 'Created')
            Get-Content $sriovConfig | Where-Object { $_ -notlike '#*' -and $_ } | Should -Be @(
                'pf 0000:02:00.0 8086:1521 2 0'
                'vf 0000:02:00.0 0 mac 52:54:00:aa:bb:01 vlan 100 qos 3 max_tx_rate 1000'
                'vf 0000:02:00.0 1 spoofchk off state enable trust on'
                'pf 0000:08:00.0 1b36:0010 4 0'
            )
            [int](Get-Item (Join-Path $root 'usr/local/bin/pcipassthrough-sriov')).UnixFileMode | Should -Be 0x1ed # 0755
            "$info" | Should -BeLike '*systemctl daemon-reload && systemctl enable pcipassthrough-sriov.service*'
        }

        It 'Get-VfioHostConfiguration shows them' {
            $config = Get-VfioHostConfiguration -Root $root
            $config.SriovUnitPresent | Should -BeTrue
            $config.VirtualFunctionCounts.PciAddress | Should -Be @('0000:02:00.0', '0000:08:00.0')
            $config.VirtualFunctionCounts.NumVfs | Should -Be @(2, 4)
            $config.VirtualFunctionCounts[0].VirtualFunctions.Arguments | Should -Be @('mac 52:54:00:aa:bb:01 vlan 100 qos 3 max_tx_rate 1000', 'spoofchk off state enable trust on')
        }

        It 'Test-VfioHostConfiguration finds the counts the host does not run with, and none once the host is persisted as it runs' {
            $drift = Test-VfioHostConfiguration -Root $root | Where-Object Name -eq 'SriovCountDrift'
            $drift.Status | Should -Be 'Warning'
            $drift.Detail | Should -BeLike '*0000:08:00.0 has 0 VFs, the boot creates 4*'
            Set-VfioHostConfiguration @noBoot -RemoveVirtualFunctionCount 0000:08:00.0 -PersistVirtualFunctions -Confirm:$false | Out-Null
            Get-Content $sriovConfig | Where-Object { $_ -like 'pf *' } | Should -Be 'pf 0000:02:00.0 8086:1521 2 1'
            (Test-VfioHostConfiguration -Root $root | Where-Object Name -like 'Sriov*').Status | Should -Be @('Pass', 'Pass')
        }
    }

    It 'never runs the system''s ip under a captured tree' {
        $env:PATH = $savedPath
        try {
            Set-PciVirtualFunction -Root $root -Address 0000:02:10.0 -VlanId 5 -Confirm:$false -ErrorVariable errors -ErrorAction SilentlyContinue
        }
        catch { $errors = @($_) }
        finally { $env:PATH = "$($fakeDir):$($savedPath)" }
        $errors[0].FullyQualifiedErrorId | Should -Be 'IpCommandUnavailable,PciPassthrough.PowerShell.Commands.SetPciVirtualFunctionCommand'
    }
}

Describe 'Set-PciVirtualFunction -ClearJournal' {
    It 'takes no VF attribute: an attribute given with it is refused by PowerShell, not ignored' {
        { Set-PciVirtualFunction -ClearJournal -Trust $true -WhatIf } |
            Should -Throw -ErrorId 'AmbiguousParameterSet,PciPassthrough.PowerShell.Commands.SetPciVirtualFunctionCommand'
    }
}
