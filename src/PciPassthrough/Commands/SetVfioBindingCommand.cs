using System.Management.Automation;
using PciPassthrough.Binding;
using PciPassthrough.PowerShell.Common;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>Moves devices to vfio-pci with the driver_override protocol, verified, as one transaction.</summary>
[Cmdlet(VerbsCommon.Set, "VfioBinding", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(PciDevice))]
public sealed class SetVfioBindingCommand : VfioBindingCmdletBase
{
    /// <summary>Also bind the other devices of each IOMMU group that are still on host drivers.</summary>
    [Parameter]
    public SwitchParameter IncludeGroup { get; set; }

    /// <summary>Also bind the devices at every boot: each joins the boot binding (vfio-bind.service, its ACL entry), the others untouched.</summary>
    [Parameter(ParameterSetName = DevicesSet)]
    public SwitchParameter Persist { get; set; }

    protected override string Action => "Bind to vfio-pci";

    protected override HostConfig.HostConfigurationRequest? Persistence(IReadOnlyList<PciDevice> devices) =>
        Persist && devices.Count > 0
            ? new() { Addresses = devices.Select(d => d.PciAddress).ToList(), IncludeGroup = IncludeGroup, Force = Force }
            : null;

    // With -IncludeGroup a bound device may still have peers on host drivers: plan them.
    protected override bool IsAlreadyThere(PciDevice device) => device.Driver == VfioBinder.VfioDriver && !IncludeGroup;

    protected override string AlreadyThereMessage(PciDevice device) => $"{device.PciAddress} is already bound to vfio-pci; nothing to do.";

    protected override IEnumerable<PciDevice> Plan(VfioBinder binder, PciDevice device) => binder.PlanBind(device, IncludeGroup, Force);

    protected override IReadOnlyList<DeviceBindingResult> Execute(VfioBinder binder, IReadOnlyList<PciDevice> devices) =>
        binder.Bind(devices.Select(d => d.PciAddress).ToList(), WriteVerbose, Progress, WriteWarning, Force);
}
