using System.Management.Automation;
using PciPassthrough.Filtering;
using PciPassthrough.Ids;
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

    /// <summary>Device addresses, full or <c>BB:SS.F</c>; wildcards allowed.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Address { get; set; }

    /// <summary>lspci <c>-d</c> filters: <c>vendor:device[:class[:prog-if]]</c>.</summary>
    [Parameter]
    [ValidateNotNull]
    public string[]? Filter { get; set; }

    /// <summary>Exact lspci slot strings (<c>BB:SS.F</c>), as the probe's :short_address:.</summary>
    [Parameter]
    [ValidateNotNull]
    public string[]? ShortAddress { get; set; }

    /// <summary>Case-insensitive, unanchored regular expressions on the device name.</summary>
    [Parameter]
    [ValidateNotNull]
    public string[]? DeviceName { get; set; }

    /// <summary>PCI class (4 hex digits) patterns.</summary>
    [Parameter]
    [ValidateNotNull]
    public string[]? Class { get; set; }

    /// <summary>Bound driver names; wildcards allowed.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNull]
    public string[]? Driver { get; set; }

    [Parameter]
    [ValidateNotNull]
    public int[]? IommuGroup { get; set; }

    /// <summary>The pci.ids file to name devices from.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PciIdsPath { get; set; }

    protected override void BeginProcessing()
    {
        // Validate every pattern before reading anything: a bad one is a terminating error.
        _ = BuildQuery(addresses: null);
    }

    protected override void ProcessRecord()
    {
        var query = BuildQuery(Address);
        var root = ResolveRoot();
        var names = Guard(() => PciIdDatabaseLocator.Locate(root, PciIdsPath is null ? null : GetUnresolvedProviderPathFromPSPath(PciIdsPath)));
        if (names.SourcePath is null)
        {
            WriteWarning("No pci.ids file was found; device names read as lspci prints unknown ids. Install the pci.ids package or use -PciIdsPath.");
        }

        WriteVerbose($"Reading PCI devices under '{root.Path}', names from '{names.SourcePath ?? "(none)"}'.");
        var reader = new PciDeviceReader(root, names);
        var found = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var devices = Guard(() => reader.ReadAll(ReportProgress, StopToken).Where(query.Matches).ToList());
        foreach (var device in devices)
        {
            found.Add(device.Address);
            WriteObject(device);
        }

        foreach (var diagnostic in reader.Diagnostics)
        {
            WriteWarning(diagnostic);
        }

        foreach (var exact in query.ExactAddresses)
        {
            var address = PciAddress.Parse(exact);
            if (!found.Contains(address.ToString()) && !reader.Exists(address))
            {
                WriteCoreError(new PciPassthroughException(
                    ErrorIds.DeviceNotFound,
                    FailureKind.NotFound,
                    $"No PCI device has the address '{exact}' under '{root.Path}'.",
                    "List the host's devices with Get-PciDevice and check the address (lspci -D prints the same form).",
                    exact));
            }
        }
    }

    protected override void EndProcessing() =>
        WriteProgress(new ProgressRecord(1, "Get-PciDevice", "Done") { RecordType = ProgressRecordType.Completed });

    private DeviceQuery BuildQuery(string[]? addresses) => Guard(() => new DeviceQuery()
        .WithFilters(Filter)
        .WithShortAddresses(ShortAddress)
        .WithDeviceNames(DeviceName)
        .WithAddresses(addresses)
        .WithClasses(Class)
        .WithDrivers(Driver)
        .WithIommuGroups(IommuGroup));

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
}
