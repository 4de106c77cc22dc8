using System.Management.Automation;
using PciPassthrough.Binding;
using PciPassthrough.PowerShell.Common;
using PciPassthrough.PowerShell.Completion;
using PciPassthrough.Sysfs;
using PciPassthrough.Vgpu;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>Lists the vGPU types of NVIDIA virtual functions (vendor-specific framework): creatable now, and current.</summary>
[Cmdlet(VerbsCommon.Get, "PciVgpuType")]
[OutputType(typeof(VgpuType))]
public sealed class GetPciVgpuTypeCommand : PciCmdletBase
{
    /// <summary>VFs, or PFs (meaning their VFs); every VF with NVIDIA's vGPU files when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("PciAddress")]
    public string[]? Address { get; set; }

    /// <summary>Only the types creatable now (leaves out a current type no longer listed).</summary>
    [Parameter]
    public SwitchParameter Creatable { get; set; }

    protected override void ProcessRecord()
    {
        var session = SessionFor(ResolveRoot());
        var reader = session.Devices;
        var manager = new VgpuManager(session.Root, new LiveKernel(session.Root), reader);
        var addresses = Address ?? Guard(() => reader.ReadAll().ToList()).Where(d => d.VgpuFramework == VgpuFramework.NvidiaVendor).Select(d => d.PciAddress).ToArray();
        foreach (var address in addresses)
        {
            StopToken.ThrowIfCancellationRequested();
            try
            {
                foreach (var vf in manager.Functions(address))
                {
                    WriteObject(manager.Types(vf).Where(t => !Creatable || t.Creatable), enumerateCollection: true);
                }
            }
            catch (PciPassthroughException e)
            {
                WriteCoreError(e);
            }
        }
    }
}
