using System.Management.Automation;
using PciPassthrough.Binding;
using PciPassthrough.Mdev;
using PciPassthrough.PowerShell.Common;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>Removes active mediated devices (their sysfs remove file) and, with -Undefine, their mdevctl definitions.</summary>
[Cmdlet(VerbsCommon.Remove, "MediatedDevice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
public sealed class RemoveMediatedDeviceCommand : HostChangingCmdletBase
{
    /// <summary>The devices' UUIDs; MediatedDevice objects bind by their Uuid.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Uuid { get; set; } = [];

    /// <summary>Also delete the mdevctl definitions (/etc/mdevctl.d/PARENT/UUID); a device that is only defined needs it.</summary>
    [Parameter]
    public SwitchParameter Undefine { get; set; }

    /// <summary>Remove the device even while a process (a guest) holds its /dev/vfio group open.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Seconds to wait for another binding or mediated-device change of this host to finish.</summary>
    [Parameter]
    [ValidateRange(0, 3600)]
    public int LockTimeout { get; set; } = 30;

    protected override void ProcessRecord()
    {
        var root = ResolveRoot();
        var manager = new MediatedDeviceManager(root, new LiveKernel(root)) { LockTimeout = TimeSpan.FromSeconds(LockTimeout), Cancel = StopToken };
        foreach (var uuid in Uuid)
        {
            StopToken.ThrowIfCancellationRequested();
            if (!IsForThisHost(uuid))
            {
                continue;
            }

            try
            {
                var what = manager.PlanRemove(uuid, Undefine, Force).Describe();
                if (ShouldProcess(what, what, "Remove-MediatedDevice"))
                {
                    manager.Remove(uuid, Undefine, Force, WriteVerbose);
                }
            }
            catch (PciPassthroughException e)
            {
                WriteCoreError(e);
            }
        }
    }
}
