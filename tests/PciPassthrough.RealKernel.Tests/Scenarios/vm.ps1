# Real VMs (issue 23): Debian's libvirt 9.0, started in the guest by tests/RealKernel/start-libvirt.sh (run-scenarios.sh
# passes its verdict as PCIPT_LIBVIRT), starts second-level VMs (TCG, 128 MiB, no OS) with the devices the module bound,
# placed and described. Each VM's SeaBIOS writes "PCI: init bdf=BB:SS.F id=VVVV:DDDD" for every function it enumerates
# to the isa-debugcon port 0x402: the proof that a device reached the VM, and at which guest address.
# This file is appended to guest.ps1's scenarios (same engine): the mdev scenarios there have loaded mtty.

#### vm-helpers
# Runs a program and returns its exit code, standard output and standard error.
function global:Invoke-Program([string[]] $argv, [hashtable] $environment = @{}, [string] $directory = '') {
    $psi = [System.Diagnostics.ProcessStartInfo]::new($argv[0])
    foreach ($a in $argv[1..($argv.Length - 1)]) { $psi.ArgumentList.Add($a) }
    foreach ($k in $environment.Keys) { if ($environment[$k]) { $psi.Environment[$k] = $environment[$k] } }
    if ($directory) { $psi.WorkingDirectory = $directory }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $p = [System.Diagnostics.Process]::Start($psi)
    $out = $p.StandardOutput.ReadToEndAsync()
    $err = $p.StandardError.ReadToEnd()
    $p.WaitForExit()
    [pscustomobject]@{ Code = $p.ExitCode; Out = $out.Result.Trim(); Err = $err.Trim() }
}
function global:Invoke-Virsh([string[]] $argv) { Invoke-Program (@('virsh', '-c', 'qemu:///system') + $argv) }
# A domain XML of type qemu (TCG) with the given devices and the debug console, and no USB controller or balloon of libvirt's
# own (they would take the root ports the scenarios plug into).
function global:New-VmXml([string] $name, [string[]] $devices, [string] $machine = 'q35', [string] $cpu = '') {
    $log = "/tmp/vm-$name.log"
    [System.IO.File]::WriteAllText($log, '')
    @"
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$name</name>
  <memory unit='MiB'>128</memory>
  <vcpu>$(if ($cpu) { 2 } else { 1 })</vcpu>
  <os><type arch='x86_64' machine='$machine'>hvm</type></os>
  $cpu
  <devices>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
$(($devices | ForEach-Object { $_ }) -join "`n")
  </devices>
  <qemu:commandline>
    <qemu:arg value='-chardev'/><qemu:arg value='file,id=dbg,path=$log'/>
    <qemu:arg value='-device'/><qemu:arg value='isa-debugcon,iobase=0x402,chardev=dbg'/>
  </qemu:commandline>
</domain>
"@
}
function global:Start-Vm([string] $name, [string[]] $devices, [string] $machine = 'q35', [string] $cpu = '', [switch] $Define) {
    $file = "/tmp/vm-$name.xml"
    [System.IO.File]::WriteAllText($file, (New-VmXml $name $devices $machine $cpu))
    if ($Define) { $r = Invoke-Virsh define, $file; if ($r.Code -ne 0) { return $r }; Invoke-Virsh start, $name }
    else { Invoke-Virsh create, $file }
}
# The functions the VM's firmware enumerated ("BB:SS.F=VVVV:DDDD"), once the wanted id shows up (or after $seconds).
function global:Wait-Firmware([string] $name, [string] $id, [int] $seconds = 90) {
    $log = "/tmp/vm-$name.log"
    $deadline = [DateTime]::UtcNow.AddSeconds($seconds)
    do {
        $text = [System.IO.File]::ReadAllText($log)
        if ($text.Contains("id=$id") -and $text.Contains('PCI: ')) { [System.Threading.Thread]::Sleep(500); $text = [System.IO.File]::ReadAllText($log); break }
        [System.Threading.Thread]::Sleep(500)
    } while ([DateTime]::UtcNow -lt $deadline)
    $text -split "`n" | Where-Object { $_ -match '^PCI: init bdf=(\S+) id=(\S+)' } | ForEach-Object { "$($Matches[1])=$($Matches[2])" }
}
function global:Holders([string] $address) {
    $d = Get-PciDevice -Address $address
    "$($d.Usage)|" + (($d.InUse | ForEach-Object { '{0}:{1}:{2}:{3}' -f $_.DomainName, $_.VmId, $_.HeldThrough, $_.ProcessName }) -join ',')
}
# A refusal as "ErrorId|message|recommended action", or "not refused".
function global:Refusal([scriptblock] $action) {
    try { $ErrorActionPreference = 'Stop'; & $action | Out-Null; 'not refused' }
    catch { '{0}|{1}|{2}' -f $_.FullyQualifiedErrorId.Split(',')[0], $_.Exception.Message, $_.ErrorDetails.RecommendedAction }
}
"libvirt=$env:PCIPT_LIBVIRT"

#### vm-baseline
# guest.ps1's scenarios leave the NICs as its last ones needed them: vfio-pci claiming 8086:100e by ids=, e1000
# blacklisted and unloaded. The VM scenarios start from the boot's state: vfio-pci without ids (reloaded, or it would
# claim every e1000 libvirt gives back), every NIC on its own driver.
foreach ($f in [System.IO.Directory]::GetFiles('/etc/modprobe.d', 'pcipassthrough-*.conf')) { [System.IO.File]::Delete($f) }
"vfio-reload=$((Invoke-Program @('modprobe', '-r', 'vfio_pci')).Code)|$((Invoke-Program @('modprobe', 'vfio-pci')).Code)"
$nics = '0000:00:02.0', '0000:00:03.0', '0000:06:01.0', '0000:06:02.0', '0000:01:00.0', '0000:05:00.0', '0000:07:00.0'
$kernel = [PciPassthrough.Binding.LiveKernel]::new([PciPassthrough.HostFs.HostRoot]::new('/'))
foreach ($a in $nics) {
    $d = Get-PciDevice -Address $a
    if ($d.DriverOverride) { $kernel.Write("/sys/bus/pci/devices/$a/driver_override", "`n") }
    if ($d.Driver -eq 'vfio-pci') { $kernel.Write("/sys/bus/pci/devices/$a/driver/unbind", $a) }
}
"modules=$((Invoke-Program @('modprobe', 'e1000')).Code)|$((Invoke-Program @('modprobe', 'e1000e')).Code)"
foreach ($a in $nics) { if (-not (Get-PciDevice -Address $a).Driver) { $kernel.Write('/sys/bus/pci/drivers_probe', $a) } }
"drivers=" + ((Get-PciDevice -Address $nics).Driver -join ',')

#### vm-hostdev
# The module binds the e1000e, ConvertTo-PciHostdevXml describes it (managed='yes' as OpenNebula writes it), libvirt starts
# a VM with it, and every change that would take it from the running VM is refused naming the domain.
$a = '0000:01:00.0'
Set-VfioBinding -Address $a -Confirm:$false
$hostdev = ConvertTo-PciHostdevXml -Address $a
$r = Start-Vm one-42 $hostdev
"create=$($r.Code)|$($r.Err)"
"firmware=" + ((Wait-Firmware one-42 8086:10d3) -join ',')
"holders=$(Holders $a)"
"path=" + ((Get-PciDevice -Address $a).InUse.Path -join ',')
"group=" + ((Get-IommuGroup -Address $a).InUse.DomainName -join ',')
# The same question from a user who is not root, in a second engine: the VM's QEMU (root's) cannot be read.
$nobody = Invoke-Program @('setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', 'dotnet', $env:PCIPT_RUNNER, [System.IO.Path]::Combine($env:PCIPT_SCENARIO_DIR, 'nonroot.ps1'))
$nobody.Out -split "`n" | Where-Object { $_.StartsWith('OUT ') } | ForEach-Object { 'nonroot-' + $_.Substring(4).TrimEnd("`r") }
"unbind=$(Refusal { Remove-VfioBinding -Address $a -Confirm:$false })"
"reset=$(Refusal { Reset-PciDevice -Address $a -Confirm:$false })"
"readiness=" + ((Test-PciPassthroughReadiness -Address $a).Findings | Where-Object Name -eq 'NotInUse' | ForEach-Object { "$($_.Status)|$($_.Detail)" })
"destroy=$((Invoke-Virsh destroy, one-42).Code)"
"after=$((Get-PciDevice -Address $a).Driver)|$(Holders $a)"
Remove-VfioBinding -Address $a -Confirm:$false
"returned=$((Get-PciDevice -Address $a).Driver)"

#### vm-group-peer
# Group 8 holds the pcie-pci-bridge 00:08.0 and the two conventional NICs behind it. 06:01.0 goes to the VM; its peer
# 06:02.0 is left without a driver (the group stays viable). Binding or unbinding the peer touches the running VM's
# group: both are refused naming the domain.
$vmDev = '0000:06:01.0'; $peer = '0000:06:02.0'
Set-VfioBinding -Address $vmDev, $peer -IncludeGroup -Confirm:$false
Remove-VfioBinding -Address $peer -Confirm:$false
$kernel = [PciPassthrough.Binding.LiveKernel]::new([PciPassthrough.HostFs.HostRoot]::new('/'))
if ((Get-PciDevice -Address $peer).Driver) { $kernel.Write("/sys/bus/pci/devices/$peer/driver/unbind", $peer) }
"peer-driver=[$((Get-PciDevice -Address $peer).Driver)]"
$r = Start-Vm web01 (ConvertTo-PciHostdevXml -Address $vmDev) -machine pc
"create=$($r.Code)|$($r.Err)"
"firmware=" + ((Wait-Firmware web01 8086:100f) -join ',')
"holders=$(Holders $peer)"
"bind-peer=$(Refusal { Set-VfioBinding -Address $peer -Confirm:$false })"
"destroy=$((Invoke-Virsh destroy, web01).Code)"
Remove-VfioBinding -Address $vmDev -Confirm:$false
$kernel.Write('/sys/bus/pci/drivers_probe', $peer)
"returned=$((Get-PciDevice -Address $vmDev).Driver)|$((Get-PciDevice -Address $peer).Driver)"

#### vm-managed
# managed='yes' on a device the module bound first: libvirt leaves it on vfio-pci after the VM (seen in the testbed);
# on one the module did not bind: libvirt binds it at start and gives it back to its driver at destroy. The module's
# view (driver, holders, readiness, the boot binding's check) follows both, and Remove-VfioBinding still returns the
# first one home. The module's device is also bound at boot (-Persist), so Test-VfioHostConfiguration has a say.
$mine = '0000:07:00.0'; $theirs = '0000:00:03.0'
'/etc/sysconfig', '/etc/systemd/system', '/usr/local/bin', '/etc/udev/rules.d' | ForEach-Object { [System.IO.Directory]::CreateDirectory($_) | Out-Null }
Set-VfioBinding -Address $mine -Persist -Confirm:$false
function BootCheck { (Test-VfioHostConfiguration | Where-Object Name -eq 'BootBindDevices' | ForEach-Object { "$($_.Status)" }) }
$r = Start-Vm managed1 @((ConvertTo-PciHostdevXml -Address $mine), (ConvertTo-PciHostdevXml -Address $theirs))
"create=$($r.Code)|$($r.Err)"
"firmware=" + ((Wait-Firmware managed1 8086:100e) -join ',')
"during=$((Get-PciDevice -Address $mine).Driver)|$((Get-PciDevice -Address $theirs).Driver)|$(Holders $theirs)"
"destroy=$((Invoke-Virsh destroy, managed1).Code)"
"after=$((Get-PciDevice -Address $mine).Driver)|$((Get-PciDevice -Address $theirs).Driver)"
function Bound([string] $x) { (Test-PciPassthroughReadiness -Address $x).Findings | Where-Object Name -eq 'BoundToVfio' | ForEach-Object Status }
"readiness=$(Bound $mine)|$(Bound $theirs)"
"bootcheck=$(BootCheck)"
# managed='no' on a device nobody bound: libvirt refuses to start (the group is not viable); nothing changes.
$unmanaged = (ConvertTo-PciHostdevXml -Address $theirs) -replace "managed='yes'", "managed='no'"
$r = Start-Vm managed2 $unmanaged
"unmanaged=$($r.Code)|$((Get-PciDevice -Address $theirs).Driver)"
if ($r.Code -eq 0) { $null = Invoke-Virsh destroy, managed2 }
Remove-VfioBinding -Address $mine -Confirm:$false
"returned=$((Get-PciDevice -Address $mine).Driver)"
# Back on its host driver but still listed for the boot: the check says so; -Persist takes it out of the list.
"bootcheck-returned=$(BootCheck)"
Remove-VfioBinding -Address $mine -Persist -Confirm:$false
"bootcheck-removed=$(BootCheck)"
'/etc/sysconfig/vfio-bind', '/etc/systemd/system/vfio-bind.service', '/usr/local/bin/vfio-bind' | ForEach-Object { [System.IO.File]::Delete($_) }

#### vm-defined
# A defined domain that is not running names the device: reported, readiness warns, nothing is blocked.
$a = '0000:01:00.0'
$file = '/tmp/vm-one-43.xml'
[System.IO.File]::WriteAllText($file, (New-VmXml one-43 (ConvertTo-PciHostdevXml -Address $a)))
"define=$((Invoke-Virsh define, $file).Code)"
$d = Get-PciDevice -Address $a
"assigned=" + (($d.AssignedNotRunning | ForEach-Object { '{0}:{1}:{2}' -f $_.DomainName, $_.VmId, $_.Managed }) -join ',') + "|$($d.Usage)"
"warning=" + ((Test-PciPassthroughReadiness -Address $a).Findings | Where-Object Name -eq 'NotAssignedElsewhere' | ForEach-Object Status)
"start=$((Invoke-Virsh start, one-43).Code)"
"firmware=" + ((Wait-Firmware one-43 8086:10d3) -join ',')
$d = Get-PciDevice -Address $a
"running=$(@($d.AssignedNotRunning).Count)|$(Holders $a)"
"destroy=$((Invoke-Virsh destroy, one-43).Code)|$((Invoke-Virsh undefine, one-43).Code)"
"after=$((Get-PciDevice -Address $a).Driver)"
Remove-VfioBinding -Address $a -Confirm:$false
"returned=$((Get-PciDevice -Address $a).Driver)"

#### vm-hotplug
# virsh attach-device with the module's element on a running VM: the module sees the domain take it; detach-device
# asks the VM to let go (a VM without an OS may not answer); destroy releases it in any case.
$a = '0000:05:00.0'
Set-VfioBinding -Address $a -IncludeGroup -Confirm:$false
# A q35 VM with a spare root port to plug into (PCIe native hot-plug).
$r = Start-Vm hot1 @("<controller type='pci' index='1' model='pcie-root-port'/>", "<controller type='pci' index='2' model='pcie-root-port'/>")
"create=$($r.Code)|$($r.Err)"
"before=$(Holders $a)"
$file = '/tmp/hot1-hostdev.xml'
[System.IO.File]::WriteAllText($file, (ConvertTo-PciHostdevXml -Address $a))
$r = Invoke-Virsh attach-device, hot1, $file, --live
"attach=$($r.Code)|$($r.Err)"
"attached=$(Holders $a)"
$r = Invoke-Virsh detach-device, hot1, $file, --live
"detach=$($r.Code)"
$deadline = [DateTime]::UtcNow.AddSeconds(20)
while ((Get-PciDevice -Address $a).InUse.Count -gt 0 -and [DateTime]::UtcNow -lt $deadline) { [System.Threading.Thread]::Sleep(500) }
"detached=$(Holders $a)"
# A VM without an OS never answers the unplug request: libvirt still lists the hostdev, and the module still sees it held.
"libvirt-lists=" + ((Invoke-Virsh dumpxml, hot1).Out -split "`n" | Where-Object { $_ -match '<hostdev ' }).Count
"destroy=$((Invoke-Virsh destroy, hot1).Code)"
"after=$(Holders $a)"
Remove-VfioBinding -Address $a -Confirm:$false
"returned=$((Get-PciDevice -Address $a).Driver)"

#### vm-vf
# An SR-IOV VF of the NVMe PF (on pci-pf-stub since the SR-IOV scenarios) passed to a VM; removing the PF's VFs is
# refused naming the domain.
$pf = '0000:08:00.0'
"pf-driver=$((Get-PciDevice -Address $pf).Driver)"
$c = Set-PciVirtualFunctionCount -Address $pf -Count 1 -BindToVfio -Confirm:$false
$vf = $c.VirtualFunctions[0]
$r = Start-Vm one-44 (ConvertTo-PciHostdevXml -Address $vf)
"create=$($r.Code)|$($r.Err)"
"firmware=" + ((Wait-Firmware one-44 1b36:0010) -join ',')
"holders=$(Holders $vf)"
"count=$(Refusal { Set-PciVirtualFunctionCount -Address $pf -Count 0 -Force -Confirm:$false })"
"vfs=$((Get-PciDevice -Address $pf).NumVfs)"
"destroy=$((Invoke-Virsh destroy, one-44).Code)"
Set-PciVirtualFunctionCount -Address $pf -Count 0 -Force -Confirm:$false | Out-Null
"after=$((Get-PciDevice -Address $pf).NumVfs)"

#### vm-mdev
# An mtty mediated device (ConvertTo-PciHostdevXml -Uuid) passed to a VM: the firmware sees mtty's PCI serial device;
# the mdev's holder is named, and removing it is refused naming the domain.
$d = New-MediatedDevice -Parent mtty -Type mtty-1 -Confirm:$false
$r = Start-Vm one-45 (ConvertTo-PciHostdevXml -Uuid $d.Uuid)
"create=$($r.Code)|$($r.Err)"
"firmware=" + ((Wait-Firmware one-45 4348:3253) -join ',')
$m = Get-MediatedDevice -Uuid $d.Uuid
"holders=" + (($m.InUse | ForEach-Object { '{0}:{1}:{2}' -f $_.DomainName, $_.VmId, $_.HeldThrough }) -join ',')
"remove=$(Refusal { Remove-MediatedDevice -Uuid $d.Uuid -Confirm:$false })"
"destroy=$((Invoke-Virsh destroy, one-45).Code)"
Remove-MediatedDevice -Uuid $d.Uuid -Confirm:$false
"after=$(@(Get-MediatedDevice -Parent mtty).Count)"

#### vm-placement
# Guest addresses: Find-PciPlacement on the live host's devices, with the controllers OpenNebula's KVM driver writes;
# the firmware enumerates each device at the bus, slot and function the placement computed.
$devs = '0000:01:00.0', '0000:07:00.0'
Set-VfioBinding -Address $devs -Confirm:$false
$inventory = Get-PciDevice | Import-PciHostInventory -HostName guest
$sections = ConvertFrom-PciTemplateSection -Template 'PCI = [ SHORT_ADDRESS = "01:00.0" ]
PCI = [ SHORT_ADDRESS = "07:00.0" ]'
foreach ($machine in 'pc', 'q35') {
    $p = $inventory | Find-PciPlacement -Section $sections -Machine $machine
    "$machine-placed=" + (($p.Assignments | ForEach-Object { '{0}>{1}:{2}:{3}:{4}' -f $_.PciAddress, $_.VmBus, $_.VmSlot, $_.VmFunction, $_.VmBusIndex }) -join ',')
    $xml = @($p.Controllers | ForEach-Object ToXml) + @($p.Assignments | ConvertTo-PciHostdevXml)
    $r = Start-Vm "place-$machine" $xml -machine $machine
    "$machine-create=$($r.Code)|$($r.Err)"
    "$machine-firmware=" + ((Wait-Firmware "place-$machine" 8086:10d3) -join ',')
    "$machine-live=" + (((Invoke-Virsh dumpxml, "place-$machine").Out -split "`n" | Where-Object { $_ -match "<controller type='pci' index='(\d+)' model='([^']+)'" } | ForEach-Object { "$($Matches[1]):$($Matches[2])" }) -join ',')
    "$machine-destroy=$((Invoke-Virsh destroy, "place-$machine").Code)"
}
# The NUMA layout: two guest NUMA cells, and the two NICs as if the host reported them on NUMA nodes 0 and 1 (the guest's
# own devices have none): one pcie-expander-bus per node, each device on a root port of its node's expander.
$cpu = "<cpu><numa><cell id='0' cpus='0' memory='64' unit='MiB'/><cell id='1' cpus='1' memory='64' unit='MiB'/></numa></cpu>"
$numaInventory = Get-PciDevice | ForEach-Object {
    $node = switch ($_.PciAddress) { '0000:01:00.0' { 0 } '0000:07:00.0' { 1 } default { $_.NumaNode } }
    [pscustomobject]@{ PciAddress = $_.PciAddress; VendorId = $_.VendorId; DeviceId = $_.DeviceId; Class = $_.Class; NumaNode = $node; DeviceName = $_.DeviceName; InUse = $_.InUse }
} | Import-PciHostInventory -HostName guest
$p = $numaInventory | Find-PciPlacement -Section $sections -Machine q35 -NumaNode 0, 1
"numa-placed=" + (($p.Assignments | ForEach-Object { '{0}>{1}:{2}:{3}:{4}:{5}' -f $_.PciAddress, $_.VmBus, $_.VmSlot, $_.VmFunction, $_.VmBusIndex, $_.VmNumaNode }) -join ',')
"numa-controllers=" + (($p.Controllers | Where-Object Model -eq 'pcie-expander-bus' | ForEach-Object { '{0}:{1}:{2}' -f $_.Index, $_.BusNr, $_.NumaNode }) -join ',')
$xml = @($p.Controllers | ForEach-Object ToXml) + @($p.Assignments | ConvertTo-PciHostdevXml)
$r = Start-Vm place-numa $xml -machine q35 -cpu $cpu
"numa-create=$($r.Code)|$($r.Err)"
"numa-firmware=" + ((Wait-Firmware place-numa 8086:10d3) -join ',')
"numa-live=" + (((Invoke-Virsh dumpxml, place-numa).Out -split "`n" | Where-Object { $_ -match "<controller type='pci' index='(\d+)' model='([^']+)'" } | ForEach-Object { "$($Matches[1]):$($Matches[2])" }) -join ',')
"numa-destroy=$((Invoke-Virsh destroy, place-numa).Code)"
Remove-VfioBinding -Address $devs -Confirm:$false
"returned=" + ((Get-PciDevice -Address $devs).Driver -join ',')

#### vm-runbooks
# The Pester runbooks of docs/runbooks, run as users run them (Invoke-Pester in the pinned pwsh, the module found by name)
# against the testbed while a VM holds one device and another waits, bound and free, for a guest.
$held = '0000:01:00.0'; $free = '0000:07:00.0'
Set-VfioBinding -Address $held, $free -Confirm:$false
$r = Start-Vm one-46 (ConvertTo-PciHostdevXml -Address $held)
"create=$($r.Code)|$($r.Err)"
"firmware=" + ((Wait-Firmware one-46 8086:10d3) -join ',')
$repo = [System.IO.Path]::GetFullPath([System.IO.Path]::Combine($env:PCIPT_SCENARIO_DIR, '..', '..', '..'))
$script = '/tmp/pcipt-runbooks.ps1'
[System.IO.File]::WriteAllText($script, @"
`$env:PSModulePath = '$repo/out' + [System.IO.Path]::PathSeparator + `$env:PSModulePath
Import-Module '$env:PCIPT_PESTER'
foreach (`$run in @(
        @{ Path = '$repo/docs/runbooks/HostReady.Tests.ps1'; Data = @{} },
        @{ Path = '$repo/docs/runbooks/DeviceReady.Tests.ps1'; Data = @{} },
        @{ Path = '$repo/docs/runbooks/VmHoldsDevices.Tests.ps1'; Data = @{} })) {
    `$r = Invoke-Pester -Container (New-PesterContainer -Path `$run.Path -Data `$run.Data) -PassThru -Output None
    "runbook=`$([System.IO.Path]::GetFileName(`$run.Path))|`$(`$r.PassedCount)|`$(`$r.FailedCount)"
    `$r.Tests | ForEach-Object { "test=`$([System.IO.Path]::GetFileName(`$run.Path))|`$(`$_.ExpandedPath)|`$(`$_.Result)|`$(`$_.ErrorRecord[0].Exception.Message)" }
}
"@)
# The host's tool resolver cache (written by its dotnet tool restore) is where dotnet tool run finds the pinned pwsh.
$pwsh = Invoke-Program @('dotnet', 'tool', 'run', 'pwsh', '--', '-NoProfile', '-NonInteractive', '-File', $script) @{ DOTNET_CLI_HOME = $env:PCIPT_DOTNET_CLI_HOME } $repo
"pwsh=$($pwsh.Code)|$($pwsh.Err -replace "`n", ' / ')"
$pwsh.Out -split "`n" | Where-Object { $_ -match '^(runbook|test)=' } | ForEach-Object { $_.TrimEnd("`r") }
"destroy=$((Invoke-Virsh destroy, one-46).Code)"
Remove-VfioBinding -Address $held, $free -Confirm:$false
"returned=" + ((Get-PciDevice -Address $held, $free).Driver -join ',')
