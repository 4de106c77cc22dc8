using System.Globalization;
using System.Management.Automation;
using PciPassthrough.OpenNebula.HostAttributes;
using PciPassthrough.OpenNebula.Placement;
using PciPassthrough.PowerShell.Common;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>
/// Compares OpenNebula's PCI bookkeeping of this host (onehost show -x, through Import-PciHostInventory)
/// with who holds each device's /dev/vfio/N here, and reports each mismatch with what to do. Reads only.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "PciAssignment")]
[OutputType(typeof(PciAssignmentDrift))]
public sealed class TestPciAssignmentCommand : PciCmdletBase
{
    private PciHostInventory? _books;

    /// <summary>The host's books: Import-PciHostInventory of onehost show -x (or onehost list -x with -HostName).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNullOrEmpty]
    public PciHostInventory[] Inventory { get; set; } = [];

    /// <summary>The host's name or ID in OpenNebula, to pick it from a pool.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? HostName { get; set; }

    /// <summary>Also the devices where both agree.</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var inventory in Inventory)
        {
            if (HostName is not null && inventory.HostName != HostName && inventory.HostId?.ToString(CultureInfo.InvariantCulture) != HostName)
            {
                continue;
            }

            if (_books is not null && _books.HostName != inventory.HostName)
            {
                ThrowTerminatingError(ErrorRecords.From(ErrorCatalog.AmbiguousHostInventory(_books.HostName, inventory.HostName)));
            }

            _books = inventory;
        }
    }

    // The whole pipeline first: a pool with two hosts is an error before anything is written.
    protected override void EndProcessing()
    {
        if (_books is null)
        {
            ThrowTerminatingError(ErrorRecords.From(ErrorCatalog.HostNotInInventory(HostName ?? "")));
            return;
        }

        var session = SessionFor(ResolveRoot());
        foreach (var drift in Guard(() => PciAssignmentDriftChecker.Check(session, _books)))
        {
            if (All || drift.State != PciAssignmentState.Consistent)
            {
                WriteObject(drift);
            }
        }
    }
}
