using System.Management.Automation;
using PciPassthrough.Filtering;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.OpenNebula.Probe;
using PciPassthrough.PowerShell.Common;
using PciPassthrough.PowerShell.Completion;
using PciPassthrough.Sysfs;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>Lists a host's PCI devices from sysfs, named from pci.ids, filtered as lspci and OpenNebula's probe filter.</summary>
[Cmdlet(VerbsCommon.Get, "PciDevice")]
[OutputType(typeof(PciDevice))]
public sealed class GetPciDeviceCommand : PciCmdletBase
{
    private const int ProgressThreshold = 1024;
    private HostScan? _scan;

    /// <summary>Device addresses, full or <c>BB:SS.F</c>; wildcards allowed.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [Alias("PciAddress")]
    public string[]? Address { get; set; }

    // Empty arrays are refused on every filter: a script that computed an empty list must not
    // silently get every device of the host (and perhaps pipe them into a binding cmdlet).

    /// <summary>lspci <c>-d</c> filters: <c>vendor:device[:class[:prog-if]]</c>.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Filter { get; set; }

    /// <summary>Exact lspci slot strings (<c>BB:SS.F</c>), as the probe's :short_address:.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? ShortAddress { get; set; }

    /// <summary>Case-insensitive, unanchored regular expressions on the device name.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? DeviceName { get; set; }

    /// <summary>PCI class (4 hex digits) patterns.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Class { get; set; }

    /// <summary>Bound driver names; wildcards allowed.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Driver { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public int[]? IommuGroup { get; set; }

    /// <summary>OpenNebula's pci.conf: list exactly the devices its probe would report.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ProbeFilterPath { get; set; }

    /// <summary>The pci.ids file to name devices from.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PciIdsPath { get; set; }

    private PciPassthrough.OpenNebula.PciProbeFilter? _probeFilter;

    protected override void BeginProcessing()
    {
        // Validate every pattern before reading anything: a bad one is a terminating error.
        _ = Guard(() => BuildQuery(addresses: null));
        if (ProbeFilterPath is not null)
        {
            var filter = Guard(() => ProbeFilterFiles.Read(GetUnresolvedProviderPathFromPSPath(ProbeFilterPath)));
            _ = Guard(() => new ProbeSelection(ResolveRoot(), filter)); // a bad entry or pattern ends the command here
            _probeFilter = filter;
            WriteVerbose($"Probe filter {filter.Path}: filter {string.Join(",", filter.Filter)}; short addresses {string.Join(",", filter.ShortAddress)}; names {string.Join(",", filter.DeviceName)}.");
        }
    }

    protected override void ProcessRecord()
    {
        DeviceQuery query;
        try
        {
            query = BuildQuery(Address);
        }
        catch (PciPassthroughException e) when (MyInvocation.ExpectingInput)
        {
            // One bad item from the pipeline: report it and go on with the next one.
            WriteCoreError(e);
            return;
        }
        catch (PciPassthroughException e)
        {
            ThrowTerminatingError(ErrorRecords.From(e));
            return;
        }

        var scan = ScanFor(ResolveRoot());
        var found = new HashSet<string>(StringComparer.Ordinal);
        var candidates = query.IsExactAddressesOnly
            ? query.ExactAddresses.Select(a => Guard(() => scan.Reader.Read(PciAddress.Parse(a)))).OfType<PciDevice>().Distinct().ToList()
            : scan.All(ReportProgress, Guard, StopToken);
        // Matching runs user regexes, which can time out: that ends the command with its own error ID.
        var selected = Guard(() => candidates.Where(d => query.Matches(d) && (scan.Probe?.Reports(d) ?? true)).ToList());
        foreach (var device in selected)
        {
            found.Add(device.PciAddress);
            WriteObject(device);
        }

        scan.FlushDiagnostics(WriteWarning);
        foreach (var exact in query.ExactAddresses)
        {
            var address = PciAddress.Parse(exact);
            if (!found.Contains(address.ToString()) && !scan.Reader.Exists(address))
            {
                WriteCoreError(ErrorCatalog.DeviceNotFound(exact, scan.Root.Path));
            }
        }
    }

    protected override void EndProcessing() =>
        WriteProgress(new ProgressRecord(1, "Get-PciDevice", "Done") { RecordType = ProgressRecordType.Completed });

    private DeviceQuery BuildQuery(string[]? addresses) => new DeviceQuery()
        .WithFilters(Filter)
        .WithShortAddresses(ShortAddress)
        .WithDeviceNames(DeviceName)
        .WithAddresses(addresses)
        .WithClasses(Class)
        .WithDrivers(Driver)
        .WithIommuGroups(IommuGroup);

    // Piped input (addresses or device objects) usually shares one root: read it once per invocation.
    private HostScan ScanFor(HostRoot root)
    {
        if (_scan is null || _scan.Root.Path != root.Path)
        {
            var session = SessionFor(root, PciIdsPath);
            var names = session.Names;
            if (names.SourcePath is null)
            {
                WriteWarning("No pci.ids file was found; device names read as lspci prints unknown ids. Install the pci.ids package or use -PciIdsPath.");
            }

            WriteVerbose($"Reading PCI devices under '{root.Path}', names from '{names.SourcePath ?? "(none)"}'.");
            // The probe's own rules (OpenNebula.Probe.ProbeSelection), shared with Invoke-PciProbe.
            _scan = new HostScan(root, session.Devices, _probeFilter is null ? null : Guard(() => new ProbeSelection(root, _probeFilter)));
        }

        return _scan;
    }

    private void ReportProgress(int done, int total)
    {
        if (total >= ProgressThreshold && (done % 256 == 0 || done == total))
        {
            WriteProgress(new ProgressRecord(1, "Get-PciDevice", $"Reading device {done} of {total}")
            {
                PercentComplete = done * 100 / total,
            });
        }
    }

    /// <summary>One root's reader and, once a full scan was needed, its devices.</summary>
    private sealed class HostScan(HostRoot root, PciDeviceReader reader, ProbeSelection? probe)
    {
        private List<PciDevice>? _all;
        private int _diagnosticsShown;

        public HostRoot Root { get; } = root;

        public PciDeviceReader Reader { get; } = reader;

        public ProbeSelection? Probe { get; } = probe;

        public List<PciDevice> All(Action<int, int> progress, Func<Func<List<PciDevice>>, List<PciDevice>> guard, CancellationToken cancel) =>
            _all ??= guard(() => Reader.ReadAll(progress, cancel).ToList());

        public void FlushDiagnostics(Action<string> write)
        {
            for (; _diagnosticsShown < Reader.Diagnostics.Count; _diagnosticsShown++)
            {
                write(Reader.Diagnostics[_diagnosticsShown]);
            }
        }
    }
}
