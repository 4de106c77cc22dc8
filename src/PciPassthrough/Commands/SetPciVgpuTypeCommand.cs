using System.Management.Automation;
using PciPassthrough.Binding;
using PciPassthrough.PowerShell.Common;
using PciPassthrough.PowerShell.Completion;
using PciPassthrough.Sysfs;
using PciPassthrough.Vgpu;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>
/// Gives NVIDIA virtual functions a vGPU type (writes nvidia/current_vgpu_type), only a type the VF lists as
/// creatable now; never rebinds or resets the VF. -Count fills free VFs of a PF in order.
/// </summary>
[Cmdlet(VerbsCommon.Set, "PciVgpuType", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = VfSet)]
[OutputType(typeof(VgpuType))]
public sealed class SetPciVgpuTypeCommand : HostChangingCmdletBase
{
    private const string VfSet = "VirtualFunction";
    private const string FillSet = "Count";

    /// <summary>The VFs to set.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = VfSet)]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("PciAddress")]
    public string[] Address { get; set; } = [];

    /// <summary>The type: its numeric ID (590), full name (NVIDIA A10-1Q) or short name (A10-1Q).</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string Type { get; set; } = "";

    /// <summary>Replace a different type a VF already runs.</summary>
    [Parameter(ParameterSetName = VfSet)]
    public SwitchParameter Force { get; set; }

    /// <summary>With -Count: the GPU (PF) whose free VFs to fill.</summary>
    [Parameter(Mandatory = true, ParameterSetName = FillSet)]
    [ValidateNotNullOrEmpty]
    public string PhysicalFunction { get; set; } = "";

    /// <summary>How many free VFs of the PF get the type, in VF order.</summary>
    [Parameter(Mandatory = true, ParameterSetName = FillSet)]
    [ValidateRange(1, 4096)]
    public int Count { get; set; }

    /// <summary>Seconds to wait for the module's lock.</summary>
    [Parameter]
    [ValidateRange(0, 3600)]
    public int LockTimeout { get; set; } = 30;

    protected override void ProcessRecord()
    {
        var session = SessionFor(ResolveRoot());
        var reader = session.Devices;
        var manager = new VgpuManager(session.Root, new LiveKernel(session.Root), reader) { LockTimeout = TimeSpan.FromSeconds(LockTimeout), Cancel = StopToken };
        foreach (var target in ParameterSetName == FillSet ? [PhysicalFunction] : Address)
        {
            if (!IsForThisHost(target))
            {
                continue;
            }

            try
            {
                if (ParameterSetName == FillSet)
                {
                    var free = manager.Functions(target).Where(v => manager.Current(v) == 0 && v.InUse.Length == 0).Take(Count).Select(v => v.PciAddress).ToList();
                    var what = $"PF {target}: current_vgpu_type 0 -> {Type} on {Count} free VF(s) in order, re-reading creatable_vgpu_types for each (now free: {string.Join(", ", free)}); rolled back to 0 on failure";
                    if (ShouldProcess(what, what, "Set-PciVgpuType"))
                    {
                        WriteTypes(manager, reader, manager.Fill(target, Type, Count, WriteVerbose));
                    }

                    continue;
                }

                foreach (var vf in manager.Functions(target))
                {
                    var what = manager.PlanSet(vf, Type, Force);
                    if (ShouldProcess(what, what, "Set-PciVgpuType"))
                    {
                        manager.Set(vf, Type, Force, WriteVerbose);
                        WriteTypes(manager, reader, [vf.PciAddress]);
                    }
                }
            }
            catch (PciPassthroughException e)
            {
                WriteCoreError(e);
            }
        }
    }

    private void WriteTypes(VgpuManager manager, PciDeviceReader reader, IEnumerable<string> vfs)
    {
        foreach (var vf in vfs)
        {
            WriteObject(manager.Types(reader.Fresh().Require(vf)).Where(t => t.Current), enumerateCollection: true);
        }
    }
}
