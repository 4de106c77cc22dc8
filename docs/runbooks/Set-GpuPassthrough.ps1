<#
.SYNOPSIS
    Binds the GPUs matching a filter (with their IOMMU group peers) to vfio-pci, after checking each.
.DESCRIPTION
    Refuses devices whose readiness audit has a Fail finding, then binds the rest with -IncludeGroup in
    one transaction. Supports -WhatIf and -Confirm; returns the refreshed devices.
.EXAMPLE
    ./Set-GpuPassthrough.ps1 -WhatIf
.EXAMPLE
    ./Set-GpuPassthrough.ps1 -Filter '10de:1eb8' -Confirm:$false
#>
[CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
param(
    # NVIDIA by default; any lspci -d filter.
    [string[]] $Filter = @('10de:*'),
    [string] $Root = '/'
)

$ErrorActionPreference = 'Stop'
$devices = @(Get-PciDevice -Root $Root -Filter $Filter | Where-Object { $_.Class -like '03*' })
if ($devices.Count -eq 0) {
    throw "No display device matches $($Filter -join ', ') under $Root."
}

$blocked = @($devices | Test-PciPassthroughReadiness | Where-Object { $_.Findings | Where-Object { "$($_.Status)" -eq 'Fail' } })
foreach ($b in $blocked) {
    $PSCmdlet.WriteWarning("$($b.PciAddress) is not passed through: $((($b.Findings | Where-Object { "$($_.Status)" -eq 'Fail' }).Detail) -join ' ')")
}

$candidates = @($devices | Where-Object { $_.PciAddress -notin $blocked.PciAddress })
if ($candidates.Count -gt 0) {
    # -WhatIf, -Confirm and their preference variables flow from this script to the cmdlet: binding a
    # GPU asks per device unless the caller said -Confirm:$false.
    $candidates | Set-VfioBinding -IncludeGroup -PassThru
}
