# Run by vm.ps1 as the user nobody (setpriv), in a second engine, while a VM holds 0000:01:00.0: another user's
# QEMU cannot be read, so the module must answer Unknown, never "not in use".

#### nonroot
"uid=$([System.Environment]::UserName)"
Get-PciDevice -Address 0000:01:00.0, 0000:00:02.0 | ForEach-Object { 'device={0}|{1}|{2}' -f $_.PciAddress, $_.Usage, @($_.InUse).Count }
(Test-PciPassthroughReadiness -Address 0000:01:00.0).Findings | Where-Object Name -eq 'NotInUse' | ForEach-Object { "readiness=$($_.Status)|$($_.Remedy)" }
