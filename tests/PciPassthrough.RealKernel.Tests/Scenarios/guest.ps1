# Scenarios run inside the real-kernel guest (tests/RealKernel) by tests/PciPassthrough.GuestRunner,
# one engine for all. Each block starts with "#### name"; it prints strings the host-side tests
# parse. The guest's layout: e1000 at 00:02.0 and 00:03.0, a PCIe root port at 00:05.0 with an
# e1000e at 01:00.0, ICH9 functions at 00:1f.0/.2/.3, the 9p share (virtio) at 00:04.0.

#### inventory
Get-PciDevice | ForEach-Object { '{0}|{1}|{2}|{3}|{4}|{5}' -f $_.Address, $_.Type, $_.Driver, $_.IommuGroup, $_.IsBridge, $_.DeviceName }

#### support
$report = Test-IommuSupport
"Supported=$($report.Supported)"
"IommuType=$($report.IommuType)"
$report.Checks | ForEach-Object { '{0}={1}' -f $_.Name, $_.Status }

#### support-quiet
Test-IommuSupport -Quiet

#### groups
Get-IommuGroup | ForEach-Object { '{0}|{1}|{2}' -f $_.Number, $_.Viable, (($_.Devices | ForEach-Object Address) -join ',') }

#### e1000-groups
Get-PciDevice -Filter '8086:100e' | Get-IommuGroup | ForEach-Object { '{0}|{1}' -f $_.Number, (($_.Devices | ForEach-Object Address) -join ',') }

#### readiness
Test-PciPassthroughReadiness -Address 0000:00:02.0, 0000:00:05.0 | ForEach-Object {
    $r = $_
    $r.Findings | ForEach-Object { '{0}|{1}={2}' -f $r.Address, $_.Name, $_.Status }
}
