<#
.SYNOPSIS
    Runbook as a Pester test: does each running libvirt domain hold the PCI devices its definition gives it?
.DESCRIPTION
    For each running domain (libvirt's live definition, /run/libvirt/qemu/<name>.xml, readable by root), every PCI
    hostdev it names must be on vfio-pci and held by that domain's QEMU, as Get-PciDevice reports its holders.
        Invoke-Pester ./VmHoldsDevices.Tests.ps1 -Output Detailed
        Invoke-Pester -Container (New-PesterContainer -Path ./VmHoldsDevices.Tests.ps1 -Data @{ Domain = 'one-42' })
#>
param(
    # The host root: / for this host, or a captured tree.
    [string] $Root = '/',
    # Domains to check by name; every running domain by default.
    [string[]] $Domain = @()
)

BeforeDiscovery {
    Import-Module PciPassthrough -ErrorAction Stop
    $status = Join-Path $Root 'run' 'libvirt' 'qemu'
    $cases = foreach ($file in @(Get-ChildItem -Path $status -Filter '*.xml' -ErrorAction SilentlyContinue)) {
        $live = [xml](Get-Content -Raw -LiteralPath $file.FullName)
        $definition = if ($live.domstatus) { $live.domstatus.domain } else { $live.domain }
        if ($Domain -and $definition.name -notin $Domain) { continue }
        foreach ($address in @($definition.SelectNodes("devices/hostdev[@type='pci']/source/address"))) {
            $pci = '{0:x4}:{1:x2}:{2:x2}.{3:x}' -f [Convert]::ToInt32($address.domain, 16), [Convert]::ToInt32($address.bus, 16), [Convert]::ToInt32($address.slot, 16), [Convert]::ToInt32($address.function, 16)
            @{ Name = $definition.name; PciAddress = $pci }
        }
    }
}

Describe 'Domain <Name> holds <PciAddress>' -ForEach @($cases) {
    BeforeAll {
        $device = Get-PciDevice -Root $Root -Address $PciAddress
    }

    It 'is on vfio-pci' {
        $device.Driver | Should -Be 'vfio-pci'
    }

    It 'is held by the domain' {
        $device.InUse.DomainName | Should -Contain $Name -Because "Get-PciDevice names its holders: $(($device.InUse | ForEach-Object ToString) -join ', ') ($($device.Usage))"
    }
}
