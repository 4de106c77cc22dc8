using System.Collections;
using System.Collections.Specialized;
using System.Management.Automation;
using PciPassthrough.Binding;
using PciPassthrough.Mdev;
using PciPassthrough.PowerShell.Common;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>
/// Creates a mediated device (writes its UUID to the type's create file), optionally persisted as an
/// mdevctl definition in /etc/mdevctl.d so that mdevctl and libvirt know it too.
/// </summary>
[Cmdlet(VerbsCommon.New, "MediatedDevice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = RandomSet)]
[OutputType(typeof(MediatedDevice))]
public sealed class NewMediatedDeviceCommand : HostChangingCmdletBase
{
    private const string RandomSet = "Random";
    private const string UuidSet = "Uuid";
    private const string DeterministicSet = "Deterministic";

    /// <summary>The parent: a PCI address or a name such as mtty (Get-MediatedDeviceType lists them).</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Parent { get; set; } = "";

    /// <summary>The type ID (nvidia-558, mtty-1).</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Type { get; set; } = "";

    /// <summary>The device's UUID; a random one when neither this nor -DeterministicFrom is given.</summary>
    [Parameter(Mandatory = true, ParameterSetName = UuidSet)]
    [ValidateNotNullOrEmpty]
    public string Uuid { get; set; } = "";

    /// <summary>Derive the UUID from this text as OpenNebula does: uuidgen --sha1 --namespace @x500 --name TEXT.</summary>
    [Parameter(Mandatory = true, ParameterSetName = DeterministicSet)]
    [ValidateNotNullOrEmpty]
    public string DeterministicFrom { get; set; } = "";

    /// <summary>Attributes written in order to the device's sysfs files after creation (use [ordered]@{}).</summary>
    [Parameter]
    [ValidateNotNull]
    public IDictionary? Attribute { get; set; }

    /// <summary>Also write the mdevctl definition /etc/mdevctl.d/PARENT/UUID.</summary>
    [Parameter]
    public SwitchParameter Persist { get; set; }

    /// <summary>With -Persist: Auto starts the device when its parent appears (at boot), Manual only on request.</summary>
    [Parameter]
    public MediatedDeviceStartMode? StartMode { get; set; }

    /// <summary>With -Persist: only define the device, do not create it now.</summary>
    [Parameter]
    public SwitchParameter NoStart { get; set; }

    /// <summary>Seconds to wait for another binding or mediated-device change of this host to finish.</summary>
    [Parameter]
    [ValidateRange(0, 3600)]
    public int LockTimeout { get; set; } = 30;

    protected override void ProcessRecord()
    {
        if (!IsForThisHost(Parent))
        {
            return;
        }

        var root = ResolveRoot();
        var manager = new MediatedDeviceManager(root, new LiveKernel(root)) { LockTimeout = TimeSpan.FromSeconds(LockTimeout), Cancel = StopToken };
        try
        {
            var request = new MediatedDeviceRequest(Parent, Type, ParameterSetName switch
            {
                UuidSet => Uuid,
                DeterministicSet => MediatedDeviceRequest.DeterministicUuid(DeterministicFrom),
                _ => Guid.NewGuid().ToString("D"),
            })
            {
                Attributes = Attributes(),
                Persist = Persist,
                StartMode = StartMode ?? MediatedDeviceStartMode.Manual,
                NoStart = NoStart,
            };
            if (StartMode is not null && !Persist)
            {
                throw ErrorCatalog.InvalidMediatedDeviceRequest("-StartMode describes the mdevctl definition: it needs -Persist.");
            }

            var plan = manager.PlanCreate(request);
            if (plan.AlreadyActive)
            {
                WriteWarning($"Mediated device {plan.Request.Uuid} already exists on {Parent} with type {Type}; using it.");
            }

            var what = plan.Describe();
            if (!ShouldProcess(what, what, "New-MediatedDevice"))
            {
                return;
            }

            WriteObject(manager.Create(plan.Request, WriteVerbose));
        }
        catch (PciPassthroughException e)
        {
            WriteCoreError(e);
        }
    }

    // mdevctl writes attributes in order: a plain hashtable has none, so more than one entry must come ordered.
    private MediatedDeviceAttributeValue[] Attributes()
    {
        if (Attribute is null)
        {
            return [];
        }

        if (Attribute.Count > 1 && Attribute is not (IOrderedDictionary or SortedList))
        {
            throw ErrorCatalog.InvalidMediatedDeviceRequest("-Attribute has more than one entry but no order: the attributes are written in order, so give an ordered dictionary ([ordered]@{ ... }).");
        }

        return Attribute.Cast<DictionaryEntry>()
            .Select(e => new MediatedDeviceAttributeValue(LanguagePrimitives.ConvertTo<string>(e.Key) ?? "", LanguagePrimitives.ConvertTo<string>(e.Value) ?? ""))
            .ToArray();
    }
}
