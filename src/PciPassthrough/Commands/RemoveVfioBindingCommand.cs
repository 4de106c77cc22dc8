using System.Management.Automation;
using PciPassthrough.Binding;
using PciPassthrough.PowerShell.Common;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>Returns devices from vfio-pci to their host driver (the one they had, or -Driver), verified, as one transaction.</summary>
[Cmdlet(VerbsCommon.Remove, "VfioBinding", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(PciDevice))]
public sealed class RemoveVfioBindingCommand : VfioBindingCmdletBase
{
    /// <summary>The host driver to bind; by default the one the device had before Set-VfioBinding.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidatePattern(@"\A[A-Za-z0-9_.-]+\z")]
    public string? Driver { get; set; }

    protected override string Action => Driver is null ? "Return to the host driver" : $"Bind to {Driver}";

    protected override bool IsAlreadyThere(PciDevice device) => device.Driver != VfioBinder.VfioDriver;

    protected override string AlreadyThereMessage(PciDevice device) => $"{device.PciAddress} is not bound to vfio-pci (it is on {device.Driver ?? "no driver"}); nothing to do.";

    protected override IEnumerable<PciDevice> Plan(VfioBinder binder, PciDevice device)
    {
        VfioBinder.PlanUnbind(device, Force);
        return [device];
    }

    protected override IReadOnlyList<DeviceBindingResult> Execute(VfioBinder binder, IReadOnlyList<PciDevice> devices) =>
        binder.Unbind(devices.Select(d => (d.PciAddress, Driver)).ToList(), WriteVerbose, Progress, WriteWarning);
}
