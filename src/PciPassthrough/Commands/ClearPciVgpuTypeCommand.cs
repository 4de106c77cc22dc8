using System.Management.Automation;
using PciPassthrough.Binding;
using PciPassthrough.PowerShell.Common;
using PciPassthrough.PowerShell.Completion;
using PciPassthrough.Sysfs;
using PciPassthrough.Vgpu;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>Removes the vGPU of NVIDIA virtual functions (writes 0 to current_vgpu_type), retrying as Proxmox does.</summary>
[Cmdlet(VerbsCommon.Clear, "PciVgpuType", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
public sealed class ClearPciVgpuTypeCommand : HostChangingCmdletBase
{
    /// <summary>The VFs to clear (a PF means its VFs).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("PciAddress")]
    public string[] Address { get; set; } = [];

    /// <summary>How long to keep retrying, once a second, while the driver still holds the type (just after QEMU exits).</summary>
    [Parameter]
    public TimeSpan RetryFor { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Seconds to wait for the module's lock.</summary>
    [Parameter]
    [ValidateRange(0, 3600)]
    public int LockTimeout { get; set; } = 30;

    protected override void ProcessRecord()
    {
        var session = SessionFor(ResolveRoot());
        var reader = session.Devices;
        var manager = new VgpuManager(session.Root, new LiveKernel(session.Root), reader) { LockTimeout = TimeSpan.FromSeconds(LockTimeout), Cancel = StopToken };
        foreach (var target in Address)
        {
            if (!IsForThisHost(target))
            {
                continue;
            }

            try
            {
                foreach (var vf in manager.Functions(target).Where(v => manager.Current(v) != 0))
                {
                    var what = $"VF {vf.PciAddress}: current_vgpu_type {manager.Current(vf)} -> 0: write to /sys/bus/pci/devices/{vf.PciAddress}/{VgpuManager.CurrentFile} (retrying for {RetryFor.TotalSeconds:0} s)";
                    if (ShouldProcess(what, what, "Clear-PciVgpuType"))
                    {
                        manager.Clear(vf, RetryFor, WriteVerbose);
                    }
                }
            }
            catch (PciPassthroughException e)
            {
                WriteCoreError(e);
            }
        }
    }
}
