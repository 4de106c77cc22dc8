# Scenarios run inside the real-kernel guest (tests/RealKernel) by tests/PciPassthrough.GuestRunner,
# one engine for all. Each block starts with "#### name"; it prints strings the host-side tests
# parse. The guest's layout: e1000 at 00:02.0 and 00:03.0, a PCIe root port at 00:05.0 with an
# e1000e at 01:00.0, ICH9 functions at 00:1f.0/.2/.3, the 9p share (virtio) at 00:04.0; for the
# topology: root port 00:06.0 (ACS, redirects disabled by boot.sh's pci=disable_acs_redir=) -> e1000e 02:00.0, root port 00:07.0 -> x3130 switch 03:00.0 ->
# 04:00.0 (no ACS) -> e1000e 05:00.0, pcie-pci-bridge 00:08.0 -> e1000 (8086:100f) 06:01.0 and 06:02.0,
# root port 00:09.0 with disable-acs=on -> e1000e 07:00.0.

#### helpers
# Each scenario has its own scope: helpers the later scenarios share are global.
function global:Start-Holder([string] $path, [scriptblock] $held) {
    # A process holding $path open, as a guest's QEMU holds /dev/vfio/N; returned once $held sees it.
    $psi = [System.Diagnostics.ProcessStartInfo]::new('sh')
    $psi.ArgumentList.Add('-c')
    $psi.ArgumentList.Add("exec 9<>$path; exec sleep 600")
    $holder = [System.Diagnostics.Process]::Start($psi)
    $deadline = [DateTime]::UtcNow.AddSeconds(30)
    while (-not (& $held) -and [DateTime]::UtcNow -lt $deadline) { [System.Threading.Thread]::Sleep(200) }
    $holder
}
"defined"

#### inventory
Get-PciDevice | ForEach-Object { '{0}|{1}|{2}|{3}|{4}|{5}' -f $_.PciAddress, $_.Type, $_.Driver, $_.IommuGroup, $_.IsBridge, $_.DeviceName }

#### inventory-ids
# The ids Get-PciDevice takes from each device's uevent, beside the attribute files the kernel prints from the same fields.
function Attribute([string] $a, [string] $f) { [System.IO.File]::ReadAllText("/sys/bus/pci/devices/$a/$f").Trim() -replace '^0x', '' }
Get-PciDevice | ForEach-Object {
    $a = $_.PciAddress
    $module = @($_.VendorId, $_.DeviceId, $_.ClassCode, $_.SubsystemVendorId, $_.SubsystemId) -join ' '
    $files = @('vendor', 'device', 'class', 'subsystem_vendor', 'subsystem_device' | ForEach-Object { Attribute $a $_ }) -join ' '
    $uevent = [System.IO.File]::ReadAllText("/sys/bus/pci/devices/$a/uevent") -split "`n" | Where-Object { $_ -like 'PCI_ID=*' -or $_ -like 'PCI_CLASS=*' -or $_ -like 'PCI_SUBSYS_ID=*' }
    'ids={0}|{1}|{2}|{3}' -f $a, $module, $files, ($uevent -join ',')
}

#### support
$report = Test-IommuSupport
"Supported=$($report.Supported)"
"IommuType=$($report.IommuType)"
$report.Checks | ForEach-Object { '{0}={1}' -f $_.Name, $_.Status }

#### support-quiet
Test-IommuSupport -Quiet

#### groups
Get-IommuGroup | ForEach-Object { '{0}|{1}|{2}' -f $_.Number, $_.Viable, (($_.Devices | ForEach-Object PciAddress) -join ',') }

#### e1000-groups
Get-PciDevice -Filter '8086:100e' | Get-IommuGroup | ForEach-Object { '{0}|{1}' -f $_.Number, (($_.Devices | ForEach-Object PciAddress) -join ',') }

#### readiness
Test-PciPassthroughReadiness -Address 0000:00:02.0, 0000:00:05.0 | ForEach-Object {
    $r = $_
    $r.Findings | ForEach-Object { '{0}|{1}={2}' -f $r.PciAddress, $_.Name, $_.Status }
}

#### topology
Get-PciTopology -IncludeAcs -WarningVariable w | ForEach-Object {
    'node={0}|{1}|{2}|{3}|{4}|{5}|{6}|{7}|{8}|{9}' -f $_.PciAddress, $_.Parent, $_.Kind, $_.IommuGroup, $_.AcsMarker, $_.SecondaryBus, $_.SubordinateBus, $_.LinkWidth, $(if ($_.Acs) { "$($_.Acs.Present):$([int]$_.Acs.Capability):$([int]$_.Acs.Control)" }), $_.Tree
}
"warnings=$($w.Count)"
"sub=" + ((Get-PciTopology -Address 0000:05:00.0).PciAddress -join ',')
"depth0=" + @(Get-PciTopology -Depth 0 | Where-Object Depth -gt 0).Count

#### topology-lspci
# The guest runs this machine's own lspci: -PP prints each device's path of bridges.
function Lspci([string[]] $argv) {
    $psi = [System.Diagnostics.ProcessStartInfo]::new('lspci')
    foreach ($a in $argv) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $p = [System.Diagnostics.Process]::Start($psi)
    $text = $p.StandardOutput.ReadToEnd()
    $p.WaitForExit()
    $text
}
$out = Lspci '-D', '-PP'
$out -split "`n" | Where-Object { $_ } | ForEach-Object { 'pp=' + ($_ -split ' ', 2)[0] }
foreach ($port in '0000:00:05.0', '0000:00:06.0', '0000:04:00.0', '0000:00:09.0') {
    $text = Lspci '-vvv', '-s', $port
    $cap = ($text -split "`n" | Where-Object { $_ -match 'ACSCap:' } | ForEach-Object { $_.Trim() }) -join ''
    $ctl = ($text -split "`n" | Where-Object { $_ -match 'ACSCtl:' } | ForEach-Object { $_.Trim() }) -join ''
    "lspci-acs=$port|$cap|$ctl"
}

#### isolation
Get-IommuGroup -WarningVariable w | ForEach-Object { 'group={0}|{1}|{2}|{3}' -f $_.Number, $_.IsolationReason, $_.UpstreamBlocker, (($_.Devices | ForEach-Object PciAddress) -join ',') }
"group-warning=$($w.Count)|$($w[0].Message -like '*pci=disable_acs_redir=0000:00:06.0*')"
Test-PciPassthroughReadiness -Address 0000:05:00.0, 0000:06:01.0, 0000:02:00.0 | ForEach-Object {
    $r = $_
    $r.Findings | Where-Object Name -in 'GroupIsolation', 'ResetCapability', 'AcsOverride' | ForEach-Object { 'finding={0}|{1}={2}|{3}' -f $r.PciAddress, $_.Name, $_.Status, $_.Detail }
}
(Test-IommuSupport).Checks | Where-Object Name -eq 'AcsOverride' | ForEach-Object { 'support={0}|{1}' -f $_.Status, $_.Detail }
"cmdline=" + ([System.IO.File]::ReadAllText('/proc/cmdline') -split ' ' | Where-Object { $_ -like 'pci=*' })

#### reset-methods
function Methods([string] $a) { [System.IO.File]::ReadAllText("/sys/bus/pci/devices/$a/reset_method").TrimEnd("`n") }
$d = Get-PciDevice -Address 0000:01:00.0
"device=$($d.ResetMethods -join ' ')|$($d.CanReset)"
"raw=$(Methods 0000:01:00.0)"
Set-PciResetMethod -Address 0000:01:00.0 -Method bus -Confirm:$false
"bus=$(Methods 0000:01:00.0)"
Set-PciResetMethod -Address 0000:01:00.0 -Method flr -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
"flr=" + $err[0].FullyQualifiedErrorId.Split(',')[0] + "|$(Methods 0000:01:00.0)"
$off = Set-PciResetMethod -Address 0000:01:00.0 -Disable -Confirm:$false -PassThru
"disabled=[$(Methods 0000:01:00.0)]|$($off.ResetMethods.Count)|$($off.CanReset)"
Reset-PciDevice -Address 0000:01:00.0 -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
"reset-disabled=" + $err[0].FullyQualifiedErrorId.Split(',')[0]
Set-PciResetMethod -Address 0000:01:00.0 -Default -Confirm:$false
"default=$(Methods 0000:01:00.0)"
Set-PciResetMethod -Address 0000:01:00.0 -Method bus -WhatIf
"whatif=$(Methods 0000:01:00.0)"
foreach ($a in '0000:00:02.0', '0000:06:01.0', '0000:06:02.0', '0000:00:08.0', '0000:04:00.0') { "methods=$a|$((Get-PciDevice -Address $a).ResetMethods -join ' ')|$((Get-PciDevice -Address $a).CanReset)" }

#### reset
$r = Reset-PciDevice -Address 0000:01:00.0 -Confirm:$false
"reset=$($r.Succeeded)|$($r.MethodsTried -join ' ')|$((Get-PciDevice -Address 0000:01:00.0).Driver)"
# QEMU's root port offers no working secondary bus reset for its slot: the kernel answers ENOTTY, and
# reset_method must still be restored.
Reset-PciDevice -Address 0000:01:00.0 -Method bus -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
"reset-bus=" + $err[0].FullyQualifiedErrorId.Split(',')[0] + "|$([System.IO.File]::ReadAllText('/sys/bus/pci/devices/0000:01:00.0/reset_method').Trim())"
$r = Reset-PciDevice -Address 0000:01:00.0 -Method pm -Confirm:$false
"reset-pm=$($r.Succeeded)|$($r.MethodsTried -join ' ')|$([System.IO.File]::ReadAllText('/sys/bus/pci/devices/0000:01:00.0/reset_method').Trim())"
foreach ($a in '0000:00:02.0', '0000:00:05.0', '0000:06:01.0') {
    Reset-PciDevice -Address $a -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
    "refused=$a|" + $err[0].FullyQualifiedErrorId.Split(',')[0]
}
"vga=" + $(try { Reset-PciDevice -Address 0000:00:01.0 -Confirm:$false -ErrorAction Stop } catch { $_.FullyQualifiedErrorId.Split(',')[0] })
"link-after=$((Get-PciDevice -Address 0000:01:00.0).Driver)|$(@((Get-PciDevice -Address 0000:01:00.0).NetworkInterfaces).Count)"

#### reset-subordinate
# reset_subordinate (a secondary bus reset of everything below a bridge): the downstream port 04:00.0 and the
# root port 00:07.0 above the switch reset; QEMU's root port 00:05.0 with its endpoint directly below fails
# with EIO ("Data Link Layer Link Active not set"). A device below held by a guest refuses before any write.
$r = Reset-PciDevice -Address 0000:04:00.0 -Subordinate -Confirm:$false
"below-downstream=$($r.Succeeded)|$($r.DevicesBelow -join ',')|$((Get-PciDevice -Address 0000:05:00.0).Driver)"
$r = Reset-PciDevice -Address 0000:00:07.0 -Subordinate -Confirm:$false
"below-root=$($r.Succeeded)|$($r.DevicesBelow -join ',')|$((Get-PciDevice -Address 0000:05:00.0).Driver)"
Reset-PciDevice -Address 0000:00:05.0 -Subordinate -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
"below-rootport=" + $err[0].FullyQualifiedErrorId.Split(',')[0] + "|$((Get-PciDevice -Address 0000:01:00.0).Driver)"
Reset-PciDevice -Address 0000:00:07.0 -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
"without-switch=" + $err[0].FullyQualifiedErrorId.Split(',')[0]
Reset-PciDevice -Address 0000:05:00.0 -Subordinate -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
"endpoint=" + $err[0].FullyQualifiedErrorId.Split(',')[0]
Set-VfioBinding -Address 0000:01:00.0 -Confirm:$false
$holder = Start-Holder "/dev/vfio/$((Get-PciDevice -Address 0000:01:00.0).IommuGroup)" { (Get-PciDevice -Address 0000:01:00.0).InUse }
Reset-PciDevice -Address 0000:00:05.0 -Subordinate -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
"held=" + $err[0].FullyQualifiedErrorId.Split(',')[0] + "|" + $err[0].Exception.Message.Contains("0000:01:00.0 is held by") + "|" + $err[0].Exception.Message.Contains("[$($holder.Id)]")
$holder.Kill()
$holder.WaitForExit()
Remove-VfioBinding -Address 0000:01:00.0 -Confirm:$false
"released=$((Get-PciDevice -Address 0000:01:00.0).Driver)"

#### bind-roundtrip
function State([string] $a) { $d = Get-PciDevice -Address $a; '{0}|{1}|{2}' -f $d.Driver, $d.DriverOverride, [System.IO.File]::Exists("/dev/vfio/$($d.IommuGroup)") }
"before=$(State 0000:00:02.0)"
Set-VfioBinding -Address 0000:00:02.0 -Confirm:$false
"bound=$(State 0000:00:02.0)"
Set-VfioBinding -Address 0000:00:02.0 -Confirm:$false -InformationVariable said
"again=$said"
Remove-VfioBinding -Address 0000:00:02.0 -Confirm:$false
"unbound=$(State 0000:00:02.0)"
"passthru=" + (Set-VfioBinding -Address 0000:00:02.0 -Confirm:$false -PassThru).Driver
"passthru=" + (Remove-VfioBinding -Address 0000:00:02.0 -Confirm:$false -PassThru).Driver

#### whatif
function BinderState { if ([System.IO.Directory]::Exists('/run/pcipassthrough')) { [System.IO.Directory]::GetFileSystemEntries('/run/pcipassthrough', '*', 'AllDirectories') -join ',' } }
$before = BinderState
Get-PciDevice -Filter '8086:100e' | Set-VfioBinding -WhatIf
"drivers=" + ((Get-PciDevice -Filter '8086:100e').Driver -join ',')
"overrides=" + ((Get-PciDevice -Filter '8086:100e' | ForEach-Object { "$($_.DriverOverride)" }) -join ',')
"state-unchanged=" + ($before -eq (BinderState))

#### group-refused
"peers=" + ((Get-PciDevice -Address '0000:00:1f.*').Driver -join ',')
Set-VfioBinding -Address 0000:00:1f.3 -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
"error=" + $err[0].FullyQualifiedErrorId.Split(',')[0]
"message=" + $err[0].Exception.Message
"after=" + ((Get-PciDevice -Address '0000:00:1f.*').Driver -join ',')

#### bridge-refused
Set-VfioBinding -Address 0000:00:05.0 -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
"error=" + $err[0].FullyQualifiedErrorId.Split(',')[0]
"after=$((Get-PciDevice -Address 0000:00:05.0).Driver)"

#### driver-will-not-bind
# pcieport refuses any device that is not a PCIe port: the return trip must roll back to vfio-pci.
Set-VfioBinding -Address 0000:00:03.0 -Confirm:$false
try { Remove-VfioBinding -Address 0000:00:03.0 -Driver pcieport -Confirm:$false } catch { "error=" + $_.FullyQualifiedErrorId.Split(',')[0] }
$d = Get-PciDevice -Address 0000:00:03.0
"rolledback=$($d.Driver)|$($d.DriverOverride)"
Remove-VfioBinding -Address 0000:00:03.0 -Confirm:$false
"final=$((Get-PciDevice -Address 0000:00:03.0).Driver)"

#### in-use
Set-VfioBinding -Address 0000:00:03.0 -Confirm:$false
$holder = Start-Holder "/dev/vfio/$((Get-PciDevice -Address 0000:00:03.0).IommuGroup)" { (Get-PciDevice -Address 0000:00:03.0).InUse }
"holder=$($holder.Id)"
"inuse=" + ((Get-PciDevice -Address 0000:00:03.0).InUse | ForEach-Object { '{0}:{1}' -f $_.ProcessId, $_.ProcessName })
Remove-VfioBinding -Address 0000:00:03.0 -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
"error=" + $err[0].FullyQualifiedErrorId.Split(',')[0]
"still=$((Get-PciDevice -Address 0000:00:03.0).Driver)"
$holder.Kill()
$holder.WaitForExit()
Remove-VfioBinding -Address 0000:00:03.0 -Confirm:$false
"released=$((Get-PciDevice -Address 0000:00:03.0).Driver)|$(@((Get-PciDevice -Address 0000:00:03.0).InUse).Count)"

#### vfio-unavailable
$unload = [System.Diagnostics.Process]::Start('modprobe', @('-r', 'vfio_pci'))
$unload.WaitForExit()
"unloaded=" + (-not [System.IO.Directory]::Exists('/sys/bus/pci/drivers/vfio-pci'))
[System.IO.Directory]::CreateDirectory('/tmp/nomodprobe') | Out-Null
[System.IO.File]::WriteAllText('/tmp/nomodprobe/modprobe', "#!/bin/sh`nexit 1`n")
[System.IO.File]::SetUnixFileMode('/tmp/nomodprobe/modprobe', [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
$savedPath = $env:PATH
$env:PATH = '/tmp/nomodprobe:' + $env:PATH
try { Set-VfioBinding -Address 0000:00:03.0 -Confirm:$false } catch { "error=" + $_.FullyQualifiedErrorId.Split(',')[0] }
"untouched=$((Get-PciDevice -Address 0000:00:03.0).Driver)|$((Get-PciDevice -Address 0000:00:03.0).DriverOverride)"
$env:PATH = $savedPath
Set-VfioBinding -Address 0000:00:03.0 -Confirm:$false
"loaded=$((Get-PciDevice -Address 0000:00:03.0).Driver)"
Remove-VfioBinding -Address 0000:00:03.0 -Confirm:$false

#### concurrent
$iss = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault2()
$iss.ImportPSModule([System.IO.Path]::Combine((Get-Module PciPassthrough).ModuleBase, 'PciPassthrough.psd1'))
$pool = [System.Management.Automation.Runspaces.RunspaceFactory]::CreateRunspacePool(2, 2, $iss, $Host)
$pool.Open()
$workers = foreach ($n in 1, 2) {
    $ps = [System.Management.Automation.PowerShell]::Create()
    $ps.RunspacePool = $pool
    [void]$ps.AddScript({
        param($n)
        $ErrorActionPreference = 'Stop'
        for ($i = 0; $i -lt 10; $i++) {
            Set-VfioBinding -Address 0000:00:02.0 -Confirm:$false -WarningAction SilentlyContinue
            Remove-VfioBinding -Address 0000:00:02.0 -Confirm:$false -WarningAction SilentlyContinue
        }
        "worker $n done"
    }).AddArgument($n)
    [pscustomobject]@{ PS = $ps; Handle = $ps.BeginInvoke() }
}
foreach ($w in $workers) { $w.PS.EndInvoke($w.Handle); "errors=$($w.PS.Streams.Error.Count)" }
$pool.Close()
"final=$((Get-PciDevice -Address 0000:00:02.0).Driver)|$((Get-PciDevice -Address 0000:00:02.0).DriverOverride)"
"journal=" + [System.IO.File]::Exists('/run/pcipassthrough/journal')

#### cycles
$wrong = 0
$clock = [System.Diagnostics.Stopwatch]::StartNew()
for ($i = 0; $i -lt 200; $i++) {
    Set-VfioBinding -Address 0000:00:02.0 -Confirm:$false
    if ((Get-PciDevice -Address 0000:00:02.0).Driver -ne 'vfio-pci') { $wrong++ }
    Remove-VfioBinding -Address 0000:00:02.0 -Confirm:$false
    if ((Get-PciDevice -Address 0000:00:02.0).Driver -ne 'e1000') { $wrong++ }
}
"wrong=$wrong"
"final=$((Get-PciDevice -Address 0000:00:02.0).Driver)"
"seconds=$([int]$clock.Elapsed.TotalSeconds)"

#### boot-binding
# The guest's / is this machine's root under a RAM overlay: writes stay in the guest. /etc/udev is
# made here because the build machine has none (a real hypervisor has it).
[System.IO.Directory]::CreateDirectory('/etc/udev/rules.d') | Out-Null
Set-VfioHostConfiguration -Address 0000:00:02.0 -SkipKernelCommandLine -Initramfs None -Confirm:$false | ForEach-Object { "wrote=$($_.Path)|$($_.Action)" }
# What vfio-bind.service runs: ExecStart=-/usr/local/bin/vfio-bind $DEVICES, DEVICES from its EnvironmentFile.
$config = [System.IO.File]::ReadAllLines('/etc/sysconfig/vfio-bind')
$devices = ($config | Where-Object { $_.StartsWith('DEVICES=') }).Substring(8).Trim('"')
$ids = ($config | Where-Object { $_.StartsWith('DEVICE_IDS=') }).Substring(11).Trim('"')
function Unit([string] $deviceList, [string] $deviceIds) {
    $psi = [System.Diagnostics.ProcessStartInfo]::new('/usr/local/bin/vfio-bind')
    foreach ($d in $deviceList.Split(' ')) { $psi.ArgumentList.Add($d) }
    $psi.Environment['DEVICE_IDS'] = $deviceIds
    $psi.RedirectStandardError = $true
    $p = [System.Diagnostics.Process]::Start($psi)
    $err = $p.StandardError.ReadToEnd()
    $p.WaitForExit()
    "rc=$($p.ExitCode)"
    if ($err) { "stderr=" + $err.Trim() }
}
"ids=$ids"
# An address whose device changed (here: configured for other ids) is skipped, never bound.
Unit '0000:00:03.0' '0000:00:03.0=dead:beef'
"skipped=$((Get-PciDevice -Address 0000:00:03.0).Driver)"
Unit $devices $ids
"drivers=$((Get-PciDevice -Address 0000:00:02.0).Driver)|$((Get-PciDevice -Address 0000:00:03.0).Driver)"
Remove-VfioBinding -Address 0000:00:02.0 -Driver e1000 -Confirm:$false
"restored=$((Get-PciDevice -Address 0000:00:02.0).Driver)"

#### persist
# Set-VfioBinding -Persist and Remove-VfioBinding -Persist (issue 24): one device joins the boot binding and leaves it,
# the device listed before stays (the guest's /etc is its RAM overlay).
'/etc/sysconfig', '/etc/systemd/system', '/usr/local/bin', '/etc/udev/rules.d' | ForEach-Object { [System.IO.Directory]::CreateDirectory($_) | Out-Null }
[System.IO.File]::WriteAllText('/etc/sysconfig/vfio-bind', "DEVICES=`"0000:07:00.0`"`nDEVICE_IDS=`"0000:07:00.0=8086:10d3`"`n")
function Listed { ([System.IO.File]::ReadAllLines('/etc/sysconfig/vfio-bind') | Where-Object { $_.StartsWith('DEVICES=') }).Substring(8) }
Set-VfioBinding -Address 0000:00:02.0 -Persist -Confirm:$false
"bound=$((Get-PciDevice -Address 0000:00:02.0).Driver)|$(Listed)"
Remove-VfioBinding -Address 0000:00:02.0 -Persist -Confirm:$false
"removed=$((Get-PciDevice -Address 0000:00:02.0).Driver)|$(Listed)"
'/etc/sysconfig/vfio-bind', '/etc/systemd/system/vfio-bind.service', '/usr/local/bin/vfio-bind' | ForEach-Object { [System.IO.File]::Delete($_) }

#### modprobe-ids
Set-VfioHostConfiguration -VfioPciId 8086:100e -BlacklistDriver e1000 -SkipKernelCommandLine -Initramfs None -Confirm:$false | ForEach-Object { "wrote=$($_.Path)|$($_.Action)" }
function Run([string[]] $argv) { $p = [System.Diagnostics.Process]::Start($argv[0], $argv[1..($argv.Length - 1)]); $p.WaitForExit(); $p.ExitCode }
"unload-e1000=$(Run modprobe, '-r', 'e1000')"
"unload-vfio=$(Run modprobe, '-r', 'vfio_pci')"
"load-vfio=$(Run modprobe, 'vfio-pci')"
"drivers=$((Get-PciDevice -Address 0000:00:02.0).Driver)|$((Get-PciDevice -Address 0000:00:03.0).Driver)"

# ---- SR-IOV (issue 15): the NVMe PF 0000:08:00.0 (1b36:0010, 4 VFs at most) behind root port 00:1e.0.
# It starts without a driver (the guest has no nvme module); pci-pf-stub makes it configurable.

#### sriov-pf
function global:SriovKernelSays([string] $value) {
    # The kernel's own answer to a raw write, through the module's writer, and the ID the module maps it to
    # (global: the later SR-IOV scenarios use it too).
    try {
        [PciPassthrough.Binding.LiveKernel]::new([PciPassthrough.HostFs.HostRoot]::new('/')).Write('/sys/bus/pci/devices/0000:08:00.0/sriov_numvfs', $value)
        'written'
    }
    catch {
        $e = $_.Exception
        while ($e -isnot [System.IO.IOException] -and $e.InnerException) { $e = $e.InnerException }
        "$($e.HResult)|" + [PciPassthrough.ErrorCatalog]::FromSriovWrite((Get-PciDevice -Address 0000:08:00.0), '/sys/bus/pci/devices/0000:08:00.0/sriov_numvfs', $value, $e).ErrorId
    }
}
$pf = Get-PciDevice -Address 0000:08:00.0
"pf=$($pf.SriovRole)|$($pf.TotalVfs)|$($pf.NumVfs)|$($pf.DriversAutoprobe)|$($pf.VfOffset)|$($pf.VfStride)|$($pf.VfDeviceId)|$($pf.Driver)"
Set-PciVirtualFunctionCount -Address 0000:08:00.0 -Count 2 -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
"nodriver=" + $err[0].FullyQualifiedErrorId.Split(',')[0]
"enoent=$(SriovKernelSays 2)"
$p = [System.Diagnostics.Process]::Start('modprobe', @('pci-pf-stub')); $p.WaitForExit()
$kernel = [PciPassthrough.Binding.LiveKernel]::new([PciPassthrough.HostFs.HostRoot]::new('/'))
$kernel.Write('/sys/bus/pci/devices/0000:08:00.0/driver_override', "pci-pf-stub`n")
$kernel.Write('/sys/bus/pci/drivers_probe', '0000:08:00.0')
"stub=$((Get-PciDevice -Address 0000:08:00.0).Driver)"
"plain=" + $(Get-PciVirtualFunction -Address 0000:00:02.0 -ErrorAction SilentlyContinue -ErrorVariable err; $err[0].FullyQualifiedErrorId.Split(',')[0])

#### sriov-create
Set-PciVirtualFunctionCount -Address 0000:08:00.0 -Count 2 -WhatIf
"whatif=$((Get-PciDevice -Address 0000:08:00.0).NumVfs)|$((Get-PciDevice -Address 0000:08:00.0).DriversAutoprobe)"
$c = Set-PciVirtualFunctionCount -Address 0000:08:00.0 -Count 2 -Confirm:$false
"change=$($c.PreviousNumVfs)|$($c.NumVfs)|$($c.DriversAutoprobe)|$($c.VirtualFunctions -join ',')"
Get-PciVirtualFunction -PhysicalFunction 0000:08:00.0 | ForEach-Object { 'vf={0}|{1}|{2}:{3}|{4}|{5}|{6}' -f $_.PciAddress, $_.Index, $_.VendorId, $_.DeviceId, $_.Driver, $_.IommuGroup, $_.PhysicalFunction }
"pfgroup=$((Get-PciDevice -Address 0000:08:00.0).IommuGroup)"
"ebusy=$(SriovKernelSays 3)"
"erange=$(SriovKernelSays 9)"
"einval=$(SriovKernelSays abc)"
"still=$((Get-PciDevice -Address 0000:08:00.0).NumVfs)"
Set-PciVirtualFunctionCount -Address 0000:08:00.0 -Count 5 -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
"toomany=" + $err[0].FullyQualifiedErrorId.Split(',')[0]
$said = Set-PciVirtualFunctionCount -Address 0000:08:00.0 -Count 3 -Confirm:$false -Verbose 4>&1
"writes=" + (($said | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like '0000:08:00.0: write*sriov_numvfs*' } | ForEach-Object { $_.Message -replace '^.*write ''([^'']*)''.*$', '$1' }) -join ',')
"recount=$(($said | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }).NumVfs)|$((Get-PciVirtualFunction -PhysicalFunction 0000:08:00.0).Count)"

#### sriov-bind
$c = Set-PciVirtualFunctionCount -Address 0000:08:00.0 -Count 2 -BindToVfio -Confirm:$false
"bound=$($c.BoundToVfio -join ',')"
Get-PciVirtualFunction -PhysicalFunction 0000:08:00.0 | ForEach-Object { 'vf={0}|{1}|{2}' -f $_.PciAddress, $_.Driver, [System.IO.File]::Exists("/dev/vfio/$($_.IommuGroup)") }
Set-PciVirtualFunctionCount -Address 0000:08:00.0 -Count 0 -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
"unforced=" + $err[0].FullyQualifiedErrorId.Split(',')[0] + "|$((Get-PciDevice -Address 0000:08:00.0).NumVfs)"

#### sriov-in-use
$holder = Start-Holder "/dev/vfio/$((Get-PciDevice -Address 0000:08:00.1).IommuGroup)" { (Get-PciVirtualFunction -Address 0000:08:00.1).InUse }
"holder=$($holder.Id)"
"inuse=" + ((Get-PciVirtualFunction -Address 0000:08:00.1).InUse | ForEach-Object ProcessId)
Set-PciVirtualFunctionCount -Address 0000:08:00.0 -Count 0 -Force -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
"refused=" + $err[0].FullyQualifiedErrorId.Split(',')[0] + "|$((Get-PciDevice -Address 0000:08:00.0).NumVfs)"
$holder.Kill()
$holder.WaitForExit()

#### sriov-timeout
# The guest closed its group fd but holds the VF's device fd: the in-use scan cannot see it, and the kernel
# blocks the removal until the fd closes (vfio-pci: "blocked until released by user").
$group = (Get-PciDevice -Address 0000:08:00.1).IommuGroup
$psi = [System.Diagnostics.ProcessStartInfo]::new('/usr/bin/python3')
$psi.ArgumentList.Add([System.IO.Path]::Combine($env:PCIPT_SCENARIO_DIR, 'hold-vfio-device.py'))
$psi.ArgumentList.Add("$group")
$psi.ArgumentList.Add('0000:08:00.1')
$psi.RedirectStandardOutput = $true
$holder = [System.Diagnostics.Process]::Start($psi)
"helper=" + $holder.StandardOutput.ReadLine()
"inuse=$(@((Get-PciVirtualFunction -Address 0000:08:00.1).InUse).Count)"
$clock = [System.Diagnostics.Stopwatch]::StartNew()
try { Set-PciVirtualFunctionCount -Address 0000:08:00.0 -Count 0 -Force -Timeout 00:00:05 -Confirm:$false } catch { "error=" + $_.FullyQualifiedErrorId.Split(',')[0]; "names=" + $_.Exception.Message.Contains("[$($holder.Id)]") }
"waited=$([int]$clock.Elapsed.TotalSeconds)"
# (No sysfs read of the PF or its VFs here: the pending write holds their device locks until the holder goes.)
$holder.Kill()
$holder.WaitForExit()
$deadline = [DateTime]::UtcNow.AddSeconds(60)
while ([System.IO.File]::ReadAllText('/sys/bus/pci/devices/0000:08:00.0/sriov_numvfs').Trim() -ne '0' -and [DateTime]::UtcNow -lt $deadline) { [System.Threading.Thread]::Sleep(200) }
"released=$((Get-PciDevice -Address 0000:08:00.0).NumVfs)|$(@(Get-PciVirtualFunction -PhysicalFunction 0000:08:00.0).Count)"

#### sriov-vfio-pf
# A PF on vfio-pci (loaded without enable_sriov) cannot enable VFs.
Set-VfioBinding -Address 0000:08:00.0 -Confirm:$false -Force
Set-PciVirtualFunctionCount -Address 0000:08:00.0 -Count 1 -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
"onvfio=$((Get-PciDevice -Address 0000:08:00.0).Driver)|" + $err[0].FullyQualifiedErrorId.Split(',')[0]
"enoent=$(SriovKernelSays 1)"
Remove-VfioBinding -Address 0000:08:00.0 -Confirm:$false
"restored=$((Get-PciDevice -Address 0000:08:00.0).Driver)"

#### sriov-boot
# Boot persistence (issue 15): the generated script run as pcipassthrough-sriov.service runs it (the guest has
# no systemd), against the NVMe PF, with 0 VFs and autoprobe 1 to start from.
'/etc/sysconfig', '/etc/systemd/system', '/usr/local/bin' | ForEach-Object { [System.IO.Directory]::CreateDirectory($_) | Out-Null }
$kernel = [PciPassthrough.Binding.LiveKernel]::new([PciPassthrough.HostFs.HostRoot]::new('/'))
$kernel.Write('/sys/bus/pci/devices/0000:08:00.0/sriov_drivers_autoprobe', '1')
Set-VfioHostConfiguration -VirtualFunctionCount @{ '0000:08:00.0' = 3 } -SkipKernelCommandLine -Initramfs None -Confirm:$false | ForEach-Object { "wrote=$($_.Path)|$($_.Action)" }
"config=" + (([System.IO.File]::ReadAllLines('/etc/sysconfig/pcipassthrough-sriov') | Where-Object { $_.StartsWith('pf ') }) -join ';')
function Drift { (Test-VfioHostConfiguration | Where-Object { $_.Name.StartsWith('Sriov') } | ForEach-Object { "$($_.Name):$($_.Status)" }) -join ',' }
function Boot([string[]] $argv) {
    $psi = [System.Diagnostics.ProcessStartInfo]::new('/usr/local/bin/pcipassthrough-sriov')
    foreach ($a in $argv) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardError = $true
    $p = [System.Diagnostics.Process]::Start($psi)
    $err = $p.StandardError.ReadToEnd()
    $p.WaitForExit()
    "$($p.ExitCode)|" + ($err.Trim() -replace "`n", ' / ')
}
function Pf { $d = Get-PciDevice -Address 0000:08:00.0; "$($d.NumVfs)|$($d.DriversAutoprobe)|$(@(Get-PciVirtualFunction -PhysicalFunction 0000:08:00.0).Count)" }
"before=$(Drift)"
"run=$(Boot @())"
"created=$(Pf)"
"drift=$(Drift)"
"again=$(Boot @())"
# Another card at the address (here: a configuration made for other ids) is skipped, and nothing is written.
[System.IO.File]::WriteAllText('/tmp/pcipt-sriov-other', "pf 0000:08:00.0 1b36:0011 1 1`n")
"mismatch=$(Boot @('/tmp/pcipt-sriov-other'))|$(Pf)"
Set-PciVirtualFunctionCount -Address 0000:08:00.0 -Count 1 -Confirm:$false | Out-Null
"changed=" + ((Test-VfioHostConfiguration | Where-Object { $_.Name -eq 'SriovCountDrift' } | ForEach-Object { "$($_.Status):$($_.Detail)" }))
"restore=$(Boot @())"
"restored=$(Pf)|$(Drift)"
Set-PciVirtualFunctionCount -Address 0000:08:00.0 -Count 0 -Confirm:$false | Out-Null
'/etc/sysconfig/pcipassthrough-sriov', '/etc/systemd/system/pcipassthrough-sriov.service', '/usr/local/bin/pcipassthrough-sriov' | ForEach-Object { [System.IO.File]::Delete($_) }
"cleared=$((Get-PciDevice -Address 0000:08:00.0).NumVfs)"

# Mediated devices (issue 17): the kernel's mtty sample, built by prepare.sh into
# tests/RealKernel/.work/mtty/mtty-<release>.ko, is a parent that is no PCI device (LAB L18/L19).
# The runner's engine has no Microsoft.PowerShell.Management/Utility: paths and JSON through .NET or text.
#### mdev-load
$ko = [System.IO.Path]::GetFullPath([System.IO.Path]::Combine($env:PCIPT_SCENARIO_DIR, "../../RealKernel/.work/mtty/mtty-$env:PCIPT_GUEST_RELEASE.ko"))
# Each scenario runs in its own scope: the helper is global so that the later mdev scenarios see it.
function global:Invoke-Tool([string[]] $argv) {
    $psi = [System.Diagnostics.ProcessStartInfo]::new($argv[0])
    foreach ($a in $argv[1..($argv.Length - 1)]) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $p = [System.Diagnostics.Process]::Start($psi)
    $out = $p.StandardOutput.ReadToEnd()
    $null = $p.StandardError.ReadToEnd()
    $p.WaitForExit()
    [pscustomobject]@{ Code = $p.ExitCode; Out = $out }
}
"ko=$([System.IO.File]::Exists($ko))"
"mdev=$((Invoke-Tool modprobe, mdev).Code)"
"mtty=$((Invoke-Tool insmod, $ko).Code)"
"parent=$([System.IO.Directory]::Exists('/sys/class/mdev_bus/mtty'))"

#### mdev-types
Get-MediatedDeviceType | ForEach-Object { 'type={0}|{1}|{2}|{3}|{4}|{5}|{6}' -f $_.Parent, $_.ParentIsPci, $_.Type, $_.Name, $_.DeviceApi, $_.AvailableInstances, $_.Description }
$types = (Invoke-Tool mdevctl, types).Out
"mdevctl-available=$(if ($types -match 'mtty-1\s+Available instances: (\d+)') { $Matches[1] })"

#### mdev-create
$u = '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001'
$d = New-MediatedDevice -Parent mtty -Type mtty-1 -Uuid $u -Confirm:$false
'device={0}|{1}|{2}|{3}|{4}' -f $d.Uuid, $d.Parent, $d.Type, $d.State, $d.Driver
"node=$($d.DevicePath)|$([System.IO.File]::Exists($d.DevicePath))|$($d.IommuGroup -ge 0)"
"link=$([System.IO.Path]::GetFileName([System.IO.FileInfo]::new("/sys/bus/mdev/devices/$u/iommu_group").LinkTarget))"
"available=$((Get-MediatedDeviceType -Parent mtty -Type mtty-1).AvailableInstances)"
$again = New-MediatedDevice -Parent mtty -Type mtty-1 -Uuid $u -Confirm:$false -WarningVariable warned -WarningAction SilentlyContinue
"reused=$($again.Uuid)|$($warned.Count)|$((Get-MediatedDeviceType -Parent mtty -Type mtty-1).AvailableInstances)"
New-MediatedDevice -Parent mtty -Type mtty-2 -Uuid $u -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
"othertype=$($err[0].FullyQualifiedErrorId.Split(',')[0])"
try { [System.IO.File]::WriteAllText('/sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1/create', $u); 'kernel-dup=accepted' } catch { "kernel-dup=$($_.Exception.InnerException.Message)" }

#### mdev-exhaust
$made = 0
while ((Get-MediatedDeviceType -Parent mtty -Type mtty-2).AvailableInstances -gt 0 -and $made -lt 30) {
    $null = New-MediatedDevice -Parent mtty -Type mtty-2 -Confirm:$false
    $made++
}
"made=$made"
New-MediatedDevice -Parent mtty -Type mtty-2 -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
"exhausted=$($err[0].FullyQualifiedErrorId.Split(',')[0])"
"listed=$(@(Get-MediatedDevice -Parent mtty | Where-Object Type -eq 'mtty-2').Count)"
Get-MediatedDevice -Parent mtty | Where-Object Type -eq 'mtty-2' | Remove-MediatedDevice -Confirm:$false
"after=$(@(Get-MediatedDevice -Parent mtty | Where-Object Type -eq 'mtty-2').Count)|$((Get-MediatedDeviceType -Parent mtty -Type mtty-2).AvailableInstances)"

#### mdev-inuse
$u = '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001'
$d = Get-MediatedDevice -Uuid $u
$holder = Start-Holder $d.DevicePath { (Get-MediatedDevice -Uuid '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001').InUse }
"inuse=" + ((Get-MediatedDevice -Uuid $u).InUse | ForEach-Object { '{0}:{1}' -f $_.ProcessId, ($_.ProcessId -eq $holder.Id) })
Remove-MediatedDevice -Uuid $u -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
"refused=$($err[0].FullyQualifiedErrorId.Split(',')[0])|$((Get-MediatedDevice -Uuid $u).State)"
$holder.Kill()
$holder.WaitForExit()
Remove-MediatedDevice -Uuid $u -Confirm:$false
"removed=$(@(Get-MediatedDevice).Count)|$([System.IO.Directory]::Exists("/sys/bus/mdev/devices/$u"))|$((Get-MediatedDeviceType -Parent mtty -Type mtty-1).AvailableInstances)"

#### mdev-mdevctl
# Definitions both ways with Debian's mdevctl (the guest's /etc is an overlay in guest RAM).
$mine = 'c4a9cf77-088e-5d36-8303-eb7f09922c64'
$theirs = '11111111-2222-3333-4444-555555555555'
$d = New-MediatedDevice -Parent mtty -Type mtty-1 -DeterministicFrom 'one-42-0' -Attribute @{ unused = 'x' } -Persist -StartMode Auto -NoStart -Confirm:$false
"mine=$($d.Uuid)|$($d.State)"
$listed = (Invoke-Tool mdevctl, list, -d, -v).Out
"mdevctl-lists=$(if ($listed -match "$mine mtty (\S+) (\S+)\s+Attrs:\s+@\{0\}: (\S+)") { $Matches[1..3] -join '|' })"
"define=$((Invoke-Tool mdevctl, define, -u, $theirs, -p, mtty, -t, mtty-2, --auto).Code)"
$t = Get-MediatedDevice -Defined -Uuid $theirs
"theirs=$($t.Type)|$($t.StartMode)|$($t.State)"
"start=$((Invoke-Tool mdevctl, start, -u, $theirs).Code)"
"started=$((Get-MediatedDevice -Uuid $theirs).State)"
$drift = Test-MediatedDeviceConfiguration
$drift | ForEach-Object { 'drift={0}|{1}' -f $_.Name, $_.Status }
Remove-MediatedDevice -Uuid $theirs -Undefine -Confirm:$false
Remove-MediatedDevice -Uuid $mine -Undefine -Confirm:$false
"mdevctl-after=$(((Invoke-Tool mdevctl, list, -d).Out).Trim())|$(((Invoke-Tool mdevctl, list).Out).Trim())"
