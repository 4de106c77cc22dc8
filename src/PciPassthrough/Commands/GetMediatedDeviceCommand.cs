using System.Management.Automation;
using PciPassthrough.Mdev;
using PciPassthrough.PowerShell.Common;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>
/// Lists mediated devices: the active ones (/sys/bus/mdev/devices), or with -Defined the ones defined for
/// mdevctl (/etc/mdevctl.d), as <c>mdevctl list</c> and <c>mdevctl list -d</c> do. State says which are both.
/// </summary>
[Cmdlet(VerbsCommon.Get, "MediatedDevice")]
[OutputType(typeof(MediatedDevice))]
public sealed class GetMediatedDeviceCommand : PciCmdletBase
{
    /// <summary>UUIDs to list; all when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[]? Uuid { get; set; }

    /// <summary>Only the devices of these parents.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Parent { get; set; }

    /// <summary>List the defined devices (active or not) instead of the active ones.</summary>
    [Parameter]
    public SwitchParameter Defined { get; set; }

    protected override void ProcessRecord()
    {
        var reader = new MediatedDeviceReader(ResolveRoot());
        var (all, errors) = Guard(() => reader.Devices());
        foreach (var error in errors)
        {
            WriteCoreError(error);
        }

        var listed = all.Where(d => (Defined ? d.State != MediatedDeviceState.Active : d.State != MediatedDeviceState.Defined)
            && (Parent is null || Parent.Contains(d.Parent, StringComparer.Ordinal))).ToList();
        if (Uuid is null)
        {
            WriteObject(listed, enumerateCollection: true);
            return;
        }

        foreach (var text in Uuid)
        {
            var uuid = MediatedDeviceReader.NormalizeUuid(text);
            if (uuid is null)
            {
                WriteCoreError(ErrorCatalog.InvalidMediatedDeviceUuid(text));
                continue;
            }

            var found = listed.Where(d => d.Uuid == uuid).ToList();
            if (found.Count == 0)
            {
                WriteCoreError(ErrorCatalog.MediatedDeviceNotFound(uuid, Defined ? "is not defined in /etc/mdevctl.d" : "is not active (add -Defined to list definitions)"));
            }

            WriteObject(found, enumerateCollection: true);
        }
    }
}
