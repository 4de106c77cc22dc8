<#
.SYNOPSIS
    Writes the OpenNebula PCI template sections for the devices matching a filter.
.DESCRIPTION
    One PCI = [ ... ] section per device, by vendor, device and class (so the scheduler may pick any
    identical card on any host), in address order: paste them into a VM template.
.EXAMPLE
    ./New-GpuTemplate.ps1 -Filter '10de:*'
#>
[CmdletBinding()]
param(
    [string[]] $Filter = @('10de:*'),
    [string] $Root = '/'
)

$ErrorActionPreference = 'Stop'
$sections = @(Get-PciDevice -Root $Root -Filter $Filter | New-PciTemplateSection)
($sections | ForEach-Object { $_.ToString() }) -join "`n"
