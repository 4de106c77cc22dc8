using System.Management.Automation;
using PciPassthrough.HostConfig;
using PciPassthrough.Ids;
using PciPassthrough.Iommu;
using PciPassthrough.PowerShell.Common;
using PciPassthrough.Sysfs;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>Drift between the VFIO configuration files and the running host, each finding with its fix.</summary>
[Cmdlet(VerbsDiagnostic.Test, "VfioHostConfiguration")]
[OutputType(typeof(ReadinessCheck))]
[OutputType(typeof(bool))]
public sealed class TestVfioHostConfigurationCommand : PciCmdletBase
{
    /// <summary>Return only $true (no Fail or Warning) or $false.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void ProcessRecord()
    {
        var root = ResolveRoot();
        var checks = Guard(() => HostConfigurationDrift.Check(root, SessionFor(root).Devices));
        if (Quiet)
        {
            WriteObject(checks.All(c => c.Status is CheckStatus.Pass or CheckStatus.NotApplicable));
            return;
        }

        WriteObject(checks, enumerateCollection: true);
    }
}
