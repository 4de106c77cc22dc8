using System.Management.Automation;
using PciPassthrough.Binding;
using PciPassthrough.Ids;
using PciPassthrough.PowerShell.Common;
using PciPassthrough.Sysfs;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>Returns devices from vfio-pci to their host driver (the one they had, or -Driver), verified, as one transaction.</summary>
[Cmdlet(VerbsCommon.Remove, "VfioBinding", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = DevicesSet)]
[OutputType(typeof(PciDevice))]
public sealed class RemoveVfioBindingCommand : VfioBindingCmdletBase
{
    /// <summary>The host driver to bind; by default the one the device had before Set-VfioBinding.</summary>
    [Parameter(ParameterSetName = DevicesSet)]
    [ValidateNotNullOrEmpty]
    [ValidatePattern(@"\A[A-Za-z0-9_.-]+\z")]
    public string? Driver { get; set; }

    /// <summary>
    /// Drops the journal of an interrupted binding and changes no device: for when the journal names a
    /// device that cannot be returned safely (BindingJournalNeedsAttention), once someone has put it
    /// where it belongs.
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = "ClearJournal")]
    public SwitchParameter ClearJournal { get; set; }

    /// <summary>Also stop binding the devices at boot: each leaves the boot binding (and its ACL entry), the others untouched.</summary>
    [Parameter(ParameterSetName = DevicesSet)]
    public SwitchParameter Persist { get; set; }

    protected override string Action => Driver is null ? "Return to the host driver" : $"Bind to {Driver}";

    protected override HostConfig.HostConfigurationRequest? Persistence(IReadOnlyList<PciDevice> devices) =>
        Persist && devices.Count > 0 ? new() { RemoveAddresses = devices.Select(d => d.PciAddress).ToList() } : null;

    protected override bool IsAlreadyThere(PciDevice device) => device.Driver != VfioBinder.VfioDriver;

    protected override string AlreadyThereMessage(PciDevice device) => $"{device.PciAddress} is not bound to vfio-pci (it is on {device.Driver ?? "no driver"}); nothing to do.";

    protected override IEnumerable<PciDevice> Plan(VfioBinder binder, PciDevice device)
    {
        VfioBinder.PlanUnbind(device, Force);
        if (Driver is not null)
        {
            binder.CheckDriverAvailable(Driver, device.PciAddress);
        }

        return [device];
    }

    protected override void ProcessRecord()
    {
        if (!ClearJournal)
        {
            base.ProcessRecord();
            return;
        }

        var root = ResolveRoot();
        if (!root.Exists(BindingState.Directory + "/journal"))
        {
            WriteInformation(new HostInformationMessage { Message = "There is no binding journal; nothing to do." }, ["PSHOST"]);
            return;
        }

        var binder = Binder(root, new PciDeviceReader(root, PciIdDatabase.Empty));
        string names;
        try
        {
            var journal = binder.ReadJournal();
            names = journal.Count == 0 ? "no device" : string.Join(", ", journal.Select(o => $"{o.Address} to {o.Driver ?? "no driver"}"));
        }
        catch (PciPassthroughException e) when (e.ErrorId == ErrorIds.JournalUnreadable)
        {
            WriteWarning(e.Message);
            names = "devices it cannot tell";
        }

        if (ShouldProcess($"{binder.JournalFile} (it would return {names})", "Clear the binding journal, leaving every device where it is"))
        {
            Guard(() => binder.ClearJournal(WriteVerbose));
        }
    }

    protected override IReadOnlyList<DeviceBindingResult> Execute(VfioBinder binder, IReadOnlyList<PciDevice> devices) =>
        binder.Unbind(devices.Select(d => (d.PciAddress, Driver)).ToList(), WriteVerbose, Progress, WriteWarning, Force);
}
