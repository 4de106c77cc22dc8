using System.Management.Automation;
using PciPassthrough.Mdev;
using PciPassthrough.PowerShell.Common;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>Lists the mediated-device types each parent offers (/sys/class/mdev_bus), with their free instances.</summary>
[Cmdlet(VerbsCommon.Get, "MediatedDeviceType")]
[OutputType(typeof(MediatedDeviceType))]
public sealed class GetMediatedDeviceTypeCommand : PciCmdletBase
{
    /// <summary>Parents to list (PCI addresses or names such as mtty); every parent when omitted. PciDevice objects bind by their address.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [Alias("PciAddress")]
    public string[]? Parent { get; set; }

    /// <summary>Type IDs to list; wildcards allowed.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[]? Type { get; set; }

    /// <summary>Only types with at least one available instance.</summary>
    [Parameter]
    public SwitchParameter Available { get; set; }

    protected override void ProcessRecord()
    {
        var reader = new MediatedDeviceReader(ResolveRoot());
        var patterns = Type?.Select(t => WildcardPattern.Get(t, WildcardOptions.IgnoreCase)).ToList();
        foreach (var parent in Parent ?? Guard(() => reader.Parents()).ToArray())
        {
            StopToken.ThrowIfCancellationRequested();
            if (!reader.ParentExists(parent))
            {
                WriteCoreError(ErrorCatalog.MediatedDeviceParentNotFound(parent, reader.ParentLike(parent)));
                continue;
            }

            foreach (var type in Guard(() => reader.Types(parent)))
            {
                if ((patterns is null || patterns.Exists(p => p.IsMatch(type.Type))) && (!Available || type.AvailableInstances > 0))
                {
                    WriteObject(type);
                }
            }
        }
    }
}
