<#
.SYNOPSIS
    Is this host ready for PCI passthrough? Checks the IOMMU, then every device matching a filter.
.DESCRIPTION
    Returns one object per device with the verdicts and the fixes, after checking the host's IOMMU
    support. Throws when the host itself is not supported, so a runbook stops there.
.EXAMPLE
    ./Test-HostReady.ps1 -Filter '10de:*'
.EXAMPLE
    ./Test-HostReady.ps1 -Filter '8086:1520' -Root /srv/captures/hv1
#>
[CmdletBinding()]
param(
    # lspci -d style filter of the devices to check.
    [string[]] $Filter = @('*:*'),
    # The host root (a captured tree, for tests).
    [string] $Root = '/'
)

$ErrorActionPreference = 'Stop'
$support = Test-IommuSupport -Root $Root
if (-not $support.Supported) {
    $failed = ($support.Checks | Where-Object { "$($_.Status)" -eq 'Fail' } | ForEach-Object { "$($_.Name): $($_.Remedy)" }) -join '; '
    throw "The host is not ready for PCI passthrough: $failed"
}

Get-PciDevice -Root $Root -Filter $Filter | Test-PciPassthroughReadiness | ForEach-Object {
    [pscustomobject]@{
        PciAddress          = $_.PciAddress
        DeviceName       = $_.DeviceName
        ReadyNow         = $_.ReadyNow
        ReadyAfterReboot = $_.ReadyAfterReboot
        ToDo             = @($_.Findings | Where-Object { "$($_.Status)" -in 'Fail', 'Warning' } | ForEach-Object { "$($_.Name): $($_.Remedy)" })
    }
}
