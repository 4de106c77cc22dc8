# Bind and unbind of one device, the module against libvirt, in the real-kernel guest (issue 23's benchmark).
# Run by bench/RealKernel/bind-vs-libvirt.sh; not a test. One engine, one boot: the module's Set-VfioBinding /
# Remove-VfioBinding and libvirt's `virsh nodedev-detach` / `nodedev-reattach` on the e1000e 0000:01:00.0 (e1000e <->
# vfio-pci), interleaved round by round, each call's wall time as its user waits for it (the cmdlet in a running shell;
# virsh as a command, its process start included, as admins and OpenNebula's scripts run it).

#### bench-bind
$a = '0000:01:00.0'
$node = 'pci_' + ($a -replace '[:.]', '_')
$rounds = [int]$(if ($env:PCIPT_BENCH_ROUNDS) { $env:PCIPT_BENCH_ROUNDS } else { 10 })
function Virsh([string[]] $argv) {
    $psi = [System.Diagnostics.ProcessStartInfo]::new('virsh')
    foreach ($x in @('-c', 'qemu:///system') + $argv) { $psi.ArgumentList.Add($x) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $p = [System.Diagnostics.Process]::Start($psi)
    $null = $p.StandardOutput.ReadToEnd(); $null = $p.StandardError.ReadToEnd()
    $p.WaitForExit()
    if ($p.ExitCode -ne 0) { throw "virsh $argv failed" }
}
function Driver { (Get-PciDevice -Address $a).Driver }
function Time([scriptblock] $step) { $c = [System.Diagnostics.Stopwatch]::StartNew(); & $step; $c.Elapsed.TotalMilliseconds }
"libvirt=$env:PCIPT_LIBVIRT"
# One untimed round of each: loads vfio-pci's paths, libvirt's node-device cache, the cmdlets' code.
Set-VfioBinding -Address $a -Confirm:$false; Remove-VfioBinding -Address $a -Confirm:$false
Virsh nodedev-detach, $node; Virsh nodedev-reattach, $node
for ($i = 0; $i -lt $rounds; $i++) {
    $bind = Time { Set-VfioBinding -Address $a -Confirm:$false }
    $bound = Driver
    $unbind = Time { Remove-VfioBinding -Address $a -Confirm:$false }
    $back = Driver
    $detach = Time { Virsh nodedev-detach, $node }
    $detached = Driver
    $reattach = Time { Virsh nodedev-reattach, $node }
    $reattached = Driver
    # What a virsh command costs before libvirt does anything: process start, connection, one call (virsh version).
    $noop = Time { Virsh version }
    'round={0}|{1:0.0}|{2:0.0}|{3:0.0}|{4:0.0}|{5}|{6:0.0}' -f $i, $bind, $unbind, $detach, $reattach, (@($bound, $back, $detached, $reattached) -join ','), $noop
}
