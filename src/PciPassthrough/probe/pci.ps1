#!/usr/bin/env pwsh
# OpenNebula's PCI monitoring probe, in PowerShell: prints byte for byte what OpenNebula's pci.rb prints
# for this host. It imports the PciPassthrough module from its own folder (following a symbolic link to
# this file), so link it into the probe directory in place of pci.rb:
#
#   ln -sf /opt/PciPassthrough/pci.ps1 /var/lib/one/remotes/im/kvm-probes.d/host/monitor/pci.rb
#
# The probe filter is OpenNebula's own pci.conf, read from where pci.rb reads it (edit it with
# Set-PciProbeFilter, then 'onehost sync --force'). A missing or malformed pci.conf is reported as pci.rb
# reports it: "Invalid configuration <path>" on stderr and a non-zero exit status.
param(
    [string] $Root = '/',                   # another host tree, for tests and captured hosts
    [string] $ConfigurationPath = ''        # default: <Root>/var/lib/one/remotes/etc/im/kvm-probes.d/pci.conf
)

$ErrorActionPreference = 'Stop'
try {
    $self = [System.IO.File]::ResolveLinkTarget($PSCommandPath, $true)
    $folder = if ($self) { [System.IO.Path]::GetDirectoryName($self.FullName) } else { $PSScriptRoot }
    Import-Module ([System.IO.Path]::Combine($folder, 'PciPassthrough.psd1'))
    if (-not $ConfigurationPath) {
        $ConfigurationPath = [System.IO.Path]::Combine($Root, 'var/lib/one/remotes/etc/im/kvm-probes.d/pci.conf')
    }
    $blocks = Invoke-PciProbe -Root $Root -ConfigurationPath $ConfigurationPath -WarningAction SilentlyContinue
    [Console]::Out.Write((-join ($blocks | ForEach-Object { $_ + "`n" })))
    [Console]::Out.Flush()
}
catch {
    [Console]::Error.WriteLine("Invalid configuration: $($_.Exception.Message)")
    exit 255
}
