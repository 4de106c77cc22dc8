#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

# The shipped probe as OpenNebula's monitord-client runs it on a KVM node: installed under pci.rb's name
# in var/tmp/one/im/kvm-probes.d/host/system, executed directly (its #! line finds pwsh on PATH) as
# '<probe> kvm <host id> <host name>' with the monitoring configuration XML on standard input.
BeforeAll {
    . (Join-Path $PSScriptRoot 'PciPassthrough.TestTree.ps1')
    Import-Module (Get-PciPassthroughModulePath) -Force
    $script:moduleDir = Split-Path (Get-Module PciPassthrough).Path
    $script:work = New-PciTestRoot

    # The host's devices, with a pci.ids of their own so that the names are fixed.
    $script:tree = Join-Path $work 'host'
    New-FakePciDevice -Root $tree -Address '0000:01:00.0' -Vendor '10de' -Device '1eb8' -Class '030200' -Driver 'nvidia'
    New-FakePciDevice -Root $tree -Address '0000:02:00.0' -Vendor '8086' -Device '1521' -Class '020000' -Driver 'igb'
    New-Item -ItemType Directory -Force -Path (Join-Path $tree 'usr/share/misc') | Out-Null
    Set-Content -NoNewline -Path (Join-Path $tree 'usr/share/misc/pci.ids') -Value (
        "10de  NVIDIA Corporation`n`t1eb8  TU104GL [Tesla T4]`n8086  Intel Corporation`n`t1521  I350 Gigabit Network Connection`n" +
        "C 02  Network controller`n`t00  Ethernet controller`nC 03  Display controller`n`t02  3D controller`n")

    # pwsh on PATH, as on a node where PowerShell is installed: the pinned pwsh behind a wrapper.
    $script:bin = Join-Path $work 'bin'
    New-Item -ItemType Directory -Path $bin | Out-Null
    Set-Content -Path (Join-Path $bin 'pwsh') -Value "#!/bin/sh`nexec '$((Get-Process -Id $PID).Path)' '$(Join-Path $PSHOME 'pwsh.dll')' `"`$@`"`n"
    & chmod +x (Join-Path $bin 'pwsh')

    # Runs the file the way monitord-client does and returns its exact bytes.
    function Invoke-NodeProbe {
        param([string] $Probe, [string] $WorkingDirectory = '/')
        # Through sh, so that a relative probe path is taken from the working directory as a shell takes it.
        $psi = [System.Diagnostics.ProcessStartInfo]::new('/bin/sh')
        foreach ($a in '-c', 'exec "$0" "$@"', $Probe, 'kvm', '0', 'host01') { $psi.ArgumentList.Add($a) }
        $psi.WorkingDirectory = $WorkingDirectory
        $psi.RedirectStandardInput = $true
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.Environment['PATH'] = "${bin}:$env:PATH"
        $psi.Environment['PCIPASSTHROUGH_PROBE_ROOT'] = $tree
        # A copied probe finds the module where it is installed: on PSModulePath.
        $psi.Environment['PSModulePath'] = Split-Path $moduleDir
        $p = [System.Diagnostics.Process]::Start($psi)
        $p.StandardInput.Write('<HOST><HOST_ID>0</HOST_ID><HOSTNAME>host01</HOSTNAME><MONITORING><INTERVAL>60</INTERVAL></MONITORING></HOST>')
        $p.StandardInput.Close()
        $out = [System.IO.MemoryStream]::new()
        $p.StandardOutput.BaseStream.CopyTo($out)
        $err = $p.StandardError.ReadToEnd()
        $p.WaitForExit()
        [pscustomobject]@{ Stdout = [System.Text.Encoding]::UTF8.GetString($out.ToArray()); Stderr = $err; ExitCode = $p.ExitCode }
    }

    function New-NodeLayout {
        param([string] $Name, [switch] $Link, [string] $PciConf)
        $node = Join-Path $work $Name
        $system = Join-Path $node 'var/tmp/one/im/kvm-probes.d/host/system'
        New-Item -ItemType Directory -Force -Path $system, (Join-Path $node 'var/tmp/one/etc/im/kvm-probes.d') | Out-Null
        $probe = Join-Path $system 'pci.rb'
        if ($Link) {
            New-Item -ItemType SymbolicLink -Path $probe -Target (Join-Path $moduleDir 'pci.ps1') | Out-Null
        }
        else {
            Copy-Item -Path (Join-Path $moduleDir 'pci.ps1') -Destination $probe
            & chmod +x $probe
        }
        if ($PciConf) {
            Set-Content -NoNewline -Path (Join-Path $node 'var/tmp/one/etc/im/kvm-probes.d/pci.conf') -Value $PciConf
        }
        $probe
    }

    # Written by hand from pci.rb's source (opennebula.md §2): NVIDIA's vendor name prefixes its DEVICE_NAME.
    $script:gpuBlock = "PCI = [`n TYPE = `"10de:1eb8:0302`" ,`n VENDOR = `"10de`" ,`n VENDOR_NAME = `"NVIDIA Corporation`" ,`n" +
        " DEVICE = `"1eb8`" ,`n CLASS = `"0302`" ,`n CLASS_NAME = `"3D controller`" ,`n ADDRESS = `"0000:01:00:0`" ,`n" +
        " SHORT_ADDRESS = `"01:00.0`" ,`n DOMAIN = `"0000`" ,`n BUS = `"01`" ,`n SLOT = `"00`" ,`n FUNCTION = `"0`" ,`n" +
        " NUMA_NODE = `"-`" ,`n IFNAME = `"-`" ,`n SRIOV = `"no`" ,`n DEVICE_NAME = `"NVIDIA Corporation TU104GL [Tesla T4]`" `n]`n"
    $script:nicBlock = "PCI = [`n TYPE = `"8086:1521:0200`" ,`n VENDOR = `"8086`" ,`n VENDOR_NAME = `"Intel Corporation`" ,`n" +
        " DEVICE = `"1521`" ,`n CLASS = `"0200`" ,`n CLASS_NAME = `"Ethernet controller`" ,`n ADDRESS = `"0000:02:00:0`" ,`n" +
        " SHORT_ADDRESS = `"02:00.0`" ,`n DOMAIN = `"0000`" ,`n BUS = `"02`" ,`n SLOT = `"00`" ,`n FUNCTION = `"0`" ,`n" +
        " NUMA_NODE = `"-`" ,`n IFNAME = `"-`" ,`n SRIOV = `"no`" ,`n DEVICE_NAME = `"I350 Gigabit Network Connection`" `n]`n"
}

AfterAll {
    Remove-PciTestRoot $work
}

Describe 'pci.ps1 run as OpenNebula runs pci.rb' {
    It 'a copy named pci.rb reads the node''s pci.conf and prints the exact bytes' {
        $probe = New-NodeLayout -Name copied -PciConf ":filter: '*:*'`n"
        $r = Invoke-NodeProbe -Probe $probe
        $r.Stderr | Should -BeNullOrEmpty
        $r.ExitCode | Should -Be 0
        $r.Stdout | Should -BeExactly ($gpuBlock + $nicBlock)
    }

    It 'a link named pci.rb to the module''s pci.ps1 applies the node''s filter, invoked by a relative path' {
        $probe = New-NodeLayout -Name linked -Link -PciConf ":filter: '10de:*'`n:device_name: ['tesla']`n"
        $r = Invoke-NodeProbe -Probe './pci.rb' -WorkingDirectory (Split-Path $probe)
        $r.Stderr | Should -BeNullOrEmpty
        $r.ExitCode | Should -Be 0
        $r.Stdout | Should -BeExactly $gpuBlock
    }

    It 'a missing pci.conf fails as pci.rb fails: its path on stderr, status 255, nothing on stdout' {
        $probe = New-NodeLayout -Name noconf
        $r = Invoke-NodeProbe -Probe $probe
        $r.Stdout | Should -BeNullOrEmpty
        $r.ExitCode | Should -Be 255
        $r.Stderr | Should -BeExactly "Invalid configuration $(Split-Path $probe)/../../../../etc/im/kvm-probes.d/pci.conf`n"
    }

    It 'a malformed pci.conf fails the same way' {
        $probe = New-NodeLayout -Name badconf -PciConf ":filter: [unclosed`n"
        $r = Invoke-NodeProbe -Probe $probe
        $r.ExitCode | Should -Be 255
        $r.Stderr | Should -BeExactly "Invalid configuration $(Split-Path $probe)/../../../../etc/im/kvm-probes.d/pci.conf`n"
    }
}
