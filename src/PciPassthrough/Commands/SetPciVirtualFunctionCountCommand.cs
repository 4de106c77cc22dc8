using System.Management.Automation;
using PciPassthrough.Binding;
using PciPassthrough.PowerShell.Common;
using PciPassthrough.PowerShell.Completion;
using PciPassthrough.Sriov;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>Sets how many SR-IOV virtual functions a PF has (sriov_numvfs), safely, optionally binding them to vfio-pci.</summary>
[Cmdlet(VerbsCommon.Set, "PciVirtualFunctionCount", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = CountSet)]
[OutputType(typeof(VirtualFunctionChange))]
public sealed class SetPciVirtualFunctionCountCommand : HostChangingCmdletBase
{
    private const string CountSet = "Count";
    private const string MaximumSet = "Maximum";

    /// <summary>PFs to change: addresses, or PciDevice objects bound by their Address.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("PciAddress")]
    public string[] Address { get; set; } = [];

    /// <summary>The number of VFs; 0 disables SR-IOV.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CountSet)]
    [ValidateRange(0, 65535)]
    public int Count { get; set; }

    /// <summary>As many VFs as the PF offers (sriov_totalvfs).</summary>
    [Parameter(Mandatory = true, ParameterSetName = MaximumSet)]
    public SwitchParameter Maximum { get; set; }

    /// <summary>Whether the new VFs bind host drivers (sriov_drivers_autoprobe); off unless given, as VFs for guests should not.</summary>
    [Parameter]
    public bool DriversAutoprobe { get; set; }

    /// <summary>Bind the new VFs to vfio-pci with the verified driver_override protocol.</summary>
    [Parameter]
    public SwitchParameter BindToVfio { get; set; }

    /// <summary>Past VirtualFunctionsBoundToVfio and PhysicalFunctionIsHostCritical (never past VirtualFunctionInUse).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>How long each sysfs write may block before the call gives up on it.</summary>
    [Parameter]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(2);

    protected override void BeginProcessing()
    {
        if (Timeout <= TimeSpan.Zero)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentOutOfRangeException(nameof(Timeout), Timeout, "-Timeout must be longer than zero."), "InvalidTimeout", ErrorCategory.InvalidArgument, Timeout));
        }
    }

    protected override void ProcessRecord()
    {
        var root = ResolveRoot();
        var session = SessionFor(root);
        var settings = VirtualFunctionCountSettings.For(root, StopToken) with { WriteTimeout = Timeout };
        var changer = new VirtualFunctionCountChanger(session, new LiveKernel(root), settings);
        var request = new VirtualFunctionCountRequest(
            ParameterSetName == CountSet ? Count : null,
            Maximum,
            MyInvocation.BoundParameters.ContainsKey(nameof(DriversAutoprobe)) ? DriversAutoprobe : null,
            Force);
        foreach (var text in Address)
        {
            StopToken.ThrowIfCancellationRequested();
            if (!IsForThisHost(text) || RequireOrReport(session.Devices, text) is not { } pf)
            {
                continue;
            }

            try
            {
                var plan = changer.Plan(pf, request);
                var bind = BindToVfio && plan.Count > 0 ? "; then bind the VFs to vfio-pci (driver_override protocol)" : "";
                if (plan.Writes.Count == 0 && bind.Length == 0)
                {
                    WriteInformation(new HostInformationMessage { Message = $"{pf.PciAddress} already has {plan.Count} VFs; nothing to do." }, ["PSHOST"]);
                }

                var what = plan.Describe() + bind;
                if (!ShouldProcess(what, what, "Set-PciVirtualFunctionCount"))
                {
                    continue;
                }

                var binder = BindToVfio ? new VfioBinder(session, new LiveKernel(root), BinderSettings.For(root, StopToken)) : null;
                WriteObject(changer.Execute(plan, request, WriteVerbose, binder));
            }
            catch (PciPassthroughException e) when (e.ErrorId == ErrorIds.SriovWriteTimeout)
            {
                // A write still pending in the kernel: stop here rather than touch another PF.
                ThrowTerminatingError(ErrorRecords.From(e));
            }
            catch (PciPassthroughException e)
            {
                WriteCoreError(e);
            }
        }
    }
}
