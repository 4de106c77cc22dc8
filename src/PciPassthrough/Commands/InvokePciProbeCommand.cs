using System.Management.Automation;
using PciPassthrough.Ids;
using PciPassthrough.OpenNebula;
using PciPassthrough.OpenNebula.Probe;
using PciPassthrough.PowerShell.Common;
using PciPassthrough.Sysfs;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>
/// Prints what OpenNebula's PCI monitoring probe (pci.rb) prints for this host and probe filter: one
/// string per <c>PCI = [ ... ]</c> block, without its trailing new line.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "PciProbe")]
[OutputType(typeof(string))]
public sealed class InvokePciProbeCommand : PciCmdletBase
{
    /// <summary>OpenNebula's pci.conf to read the filter from; the filter parameters, when given, replace its keys.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ConfigurationPath { get; set; }

    /// <summary>A pci.conf model; the other filter parameters, when given, replace its keys.</summary>
    [Parameter(ValueFromPipeline = true)]
    public PciProbeFilter? ProbeFilter { get; set; }

    /// <summary>pci.conf's :filter: (lspci -d entries, comma-separated allowed). Default '0:0': no device.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Filter { get; set; }

    /// <summary>pci.conf's :short_address:.</summary>
    [Parameter]
    [ValidateNotNull]
    public string[]? ShortAddress { get; set; }

    /// <summary>pci.conf's :device_name:.</summary>
    [Parameter]
    [ValidateNotNull]
    public string[]? DeviceName { get; set; }

    /// <summary>pci.conf's :nvidia_vendors:. Default '10de'.</summary>
    [Parameter]
    [ValidateNotNull]
    public string[]? NvidiaVendors { get; set; }

    /// <summary>The pci.ids file to name devices from.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PciIdsPath { get; set; }

    protected override void ProcessRecord()
    {
        var given = ProbeFilter
            ?? (ConfigurationPath is null ? null : Guard(() => ProbeFilterFiles.Read(GetUnresolvedProviderPathFromPSPath(ConfigurationPath))))
            ?? new PciProbeFilter();
        var filter = given.With(Filter, ShortAddress, DeviceName, NvidiaVendors);
        var root = ResolveRoot();
        var probe = Guard(() => new PciProbe(root, filter));
        var session = SessionFor(root, PciIdsPath);
        if (session.Names.SourcePath is null)
        {
            WriteWarning("No pci.ids file was found; names read as lspci prints unknown ids. Install the pci.ids package or use -PciIdsPath.");
        }

        // The probe's minimal read (what pci.rb looks at), not the session's full one.
        var reader = new PciDeviceReader(root, session.Names, PciProbe.ReadOptions);
        var blocks = Guard(() => probe.Run(reader.ReadAll(null, StopToken)));
        foreach (var diagnostic in reader.Diagnostics)
        {
            WriteWarning(diagnostic);
        }

        WriteObject(blocks, enumerateCollection: true);
    }
}
