#!/usr/bin/env pwsh
# OpenNebula's PCI monitoring probe, in PowerShell: prints byte for byte what OpenNebula's pci.rb prints
# for this host. It imports the PciPassthrough module from its own folder (following a symbolic link to
# this file), so link it into the probe directory in place of pci.rb:
#
#   ln -sf /opt/PciPassthrough/pci.ps1 /var/lib/one/remotes/im/kvm-probes.d/host/monitor/pci.rb
#
# The probe filter: until the module reads pci.conf, give the filter here. OpenNebula runs probes without
# arguments, so edit the defaults below (they are pci.conf's keys; '0:0' reports no device, '*:*' all).
param(
    [string[]] $Filter = @('0:0'),          # :filter:
    [string[]] $ShortAddress = @(),         # :short_address:
    [string[]] $DeviceName = @(),           # :device_name:
    [string[]] $NvidiaVendors = @('10de'),  # :nvidia_vendors:
    [string] $Root = '/'                    # another host tree, for tests and captured hosts
)

$ErrorActionPreference = 'Stop'
try {
    $self = [System.IO.File]::ResolveLinkTarget($PSCommandPath, $true)
    $folder = if ($self) { [System.IO.Path]::GetDirectoryName($self.FullName) } else { $PSScriptRoot }
    Import-Module ([System.IO.Path]::Combine($folder, 'PciPassthrough.psd1'))
    $blocks = Invoke-PciProbe -Root $Root -Filter $Filter -ShortAddress $ShortAddress -DeviceName $DeviceName -NvidiaVendors $NvidiaVendors -WarningAction SilentlyContinue
    [Console]::Out.Write((-join ($blocks | ForEach-Object { $_ + "`n" })))
    [Console]::Out.Flush()
}
catch {
    [Console]::Error.WriteLine("Invalid configuration: $($_.Exception.Message)")
    exit 255
}
