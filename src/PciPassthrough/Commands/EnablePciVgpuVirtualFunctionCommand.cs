using System.Management.Automation;
using PciPassthrough.PowerShell.Common;
using PciPassthrough.PowerShell.Completion;
using PciPassthrough.Vgpu;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>
/// Enables the SR-IOV virtual functions of NVIDIA GPUs the only way NVIDIA supports: its sriov-manage script
/// (sriov-manage -e ADDRESS|ALL). The module never writes sriov_numvfs of an NVIDIA GPU itself.
/// </summary>
[Cmdlet(VerbsLifecycle.Enable, "PciVgpuVirtualFunction", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(string))]
public sealed class EnablePciVgpuVirtualFunctionCommand : HostChangingCmdletBase
{
    /// <summary>GPU physical functions (DDDD:BB:SS.F), or ALL for every NVIDIA GPU.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("PciAddress")]
    public string[] Address { get; set; } = [];

    protected override void ProcessRecord()
    {
        if (!ResolveRoot().IsLiveHost)
        {
            // sriov-manage acts on the running kernel, never on a captured tree.
            ThrowTerminatingError(ErrorRecords.From(ErrorCatalog.VgpuNotSupported(Root, "is not the live host: sriov-manage enables VFs on the running kernel only, so -Root must be /.")));
        }

        foreach (var target in Address)
        {
            if (!IsForThisHost(target))
            {
                continue;
            }

            try
            {
                var what = $"run sriov-manage -e {target}";
                if (ShouldProcess(what, what, "Enable-PciVgpuVirtualFunction"))
                {
                    WriteObject(VgpuManager.EnableVirtualFunctions(target));
                }
            }
            catch (PciPassthroughException e)
            {
                WriteCoreError(e);
            }
        }
    }
}
