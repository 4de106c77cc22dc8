using System.Management.Automation;
using PciPassthrough.HostConfig;
using PciPassthrough.PowerShell.Common;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>What the host is configured to do for VFIO at boot, parsed from its files.</summary>
[Cmdlet(VerbsCommon.Get, "VfioHostConfiguration")]
[OutputType(typeof(VfioHostConfiguration))]
public sealed class GetVfioHostConfigurationCommand : PciCmdletBase
{
    protected override void ProcessRecord()
    {
        var root = ResolveRoot();
        WriteObject(Guard(() => VfioHostConfiguration.Read(root)));
    }
}
