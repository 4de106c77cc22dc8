#!/usr/bin/env pwsh
# OpenNebula's PCI monitoring probe in PowerShell: prints byte for byte what OpenNebula's pci.rb prints
# for this host. Install it under pci.rb's name, as a copy or a link (see Get-Help Invoke-PciProbe):
#
#   front-end: cp pci.ps1 /var/lib/one/remotes/im/kvm-probes.d/host/system/pci.rb; onehost sync --force
#   one node:  ln -sf <module folder>/pci.ps1 /var/tmp/one/im/kvm-probes.d/host/system/pci.rb
#
# OpenNebula runs it as '<probe> kvm <host id> <host name>' with its monitoring configuration on
# standard input; both are ignored, as pci.rb ignores them. Like pci.rb it reads
# <probe folder>/../../../../etc/im/<probes folder>/pci.conf, relative to the folder it was invoked
# from, and a missing or unreadable pci.conf prints "Invalid configuration <that path>" on stderr and
# exits with status 255.
#
# -Root (or $env:PCIPASSTHROUGH_PROBE_ROOT) reads another host tree and -ConfigurationPath another
# pci.conf: for tests and captured hosts. Both are named only: OpenNebula's positional words never bind.
[CmdletBinding(PositionalBinding = $false)]
param(
    [string] $Root = $(if ($env:PCIPASSTHROUGH_PROBE_ROOT) { $env:PCIPASSTHROUGH_PROBE_ROOT } else { '/' }),
    [string] $ConfigurationPath,
    [Parameter(ValueFromRemainingArguments = $true)]
    [string[]] $IgnoredArguments
)

$ErrorActionPreference = 'Stop'

# Under pci.rb's name pwsh runs the file as a script block: $PSCommandPath is empty, and the path the
# probe was invoked by is the first word after pwsh's own (options excepted).
$invokedAs = $PSCommandPath
if (-not $invokedAs) {
    $invokedAs = [Environment]::GetCommandLineArgs() | Select-Object -Skip 1 | Where-Object { -not $_.StartsWith('-') } | Select-Object -First 1
}
$invokedAs = [System.IO.Path]::GetFullPath($invokedAs)
$probeFolder = [System.IO.Path]::GetDirectoryName($invokedAs)

if (-not $ConfigurationPath) {
    # pci.rb: File.join(__dir__, "../../../../etc/im/#{ETC_NAME}/pci.conf"), ETC_NAME being the third
    # folder from the end of the probe's path (kvm-probes.d in .../kvm-probes.d/host/system).
    $parts = $probeFolder.Split('/')
    $etcName = if ($parts.Count -ge 3) { $parts[-3] } else { '' }
    $ConfigurationPath = "$probeFolder/../../../../etc/im/$etcName/pci.conf"
}

try {
    # The module beside the real file (a link into the module folder), else the installed module.
    $target = [System.IO.File]::ResolveLinkTarget($invokedAs, $true)
    $manifest = [System.IO.Path]::Combine([System.IO.Path]::GetDirectoryName($(if ($target) { $target.FullName } else { $invokedAs })), 'PciPassthrough.psd1')
    if ([System.IO.File]::Exists($manifest)) {
        Import-Module $manifest
    }
    else {
        Import-Module PciPassthrough
    }

    $blocks = Invoke-PciProbe -Root $Root -ConfigurationPath $ConfigurationPath -WarningAction SilentlyContinue
    [Console]::Out.Write((-join ($blocks | ForEach-Object { $_ + "`n" })))
    [Console]::Out.Flush()
}
catch {
    if ($_.FullyQualifiedErrorId -like 'InvalidProbeFilterFile,*' -or $_.FullyQualifiedErrorId -like 'ProbeFilterFileUnreadable,*') {
        # Exactly pci.rb's words and status (exit(-1)).
        [Console]::Error.WriteLine("Invalid configuration $ConfigurationPath")
        exit 255
    }
    [Console]::Error.WriteLine("pci probe: $($_.Exception.Message)")
    exit 1
}
