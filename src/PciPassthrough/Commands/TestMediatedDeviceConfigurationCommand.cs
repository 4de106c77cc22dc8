using System.Management.Automation;
using PciPassthrough.Iommu;
using PciPassthrough.Mdev;
using PciPassthrough.PowerShell.Common;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>Drift between mdevctl's definitions and the running mediated devices, and the boot-time udev rule, each finding with its fix.</summary>
[Cmdlet(VerbsDiagnostic.Test, "MediatedDeviceConfiguration")]
[OutputType(typeof(ReadinessCheck))]
[OutputType(typeof(bool))]
public sealed class TestMediatedDeviceConfigurationCommand : PciCmdletBase
{
    /// <summary>Return only $true (no Fail or Warning) or $false.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void ProcessRecord()
    {
        var checks = Guard(() => MediatedDeviceDrift.Check(ResolveRoot()));
        if (Quiet)
        {
            WriteObject(checks.All(c => c.Status is CheckStatus.Pass or CheckStatus.NotApplicable));
            return;
        }

        WriteObject(checks, enumerateCollection: true);
    }
}
