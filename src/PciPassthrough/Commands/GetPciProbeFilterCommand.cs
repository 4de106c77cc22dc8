using System.Management.Automation;
using PciPassthrough.OpenNebula;
using PciPassthrough.PowerShell.Common;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>Reads OpenNebula's probe filter, pci.conf, with OpenNebula's defaults for missing keys.</summary>
[Cmdlet(VerbsCommon.Get, "PciProbeFilter")]
[OutputType(typeof(PciProbeFilter))]
public sealed class GetPciProbeFilterCommand : PciCmdletBase
{
    /// <summary>The pci.conf file; by default OpenNebula's, under -Root.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    protected override void ProcessRecord()
    {
        var path = ProbeFilterFiles.Locate(this, Path, ResolveRoot());
        var filter = Guard(() => ProbeFilterFiles.Read(path));
        // Shown, not refused: this is how one finds what to fix. The probe and Set-PciProbeFilter refuse it.
        foreach (var key in filter.UnusableKeys)
        {
            var problem = ErrorCatalog.ProbeFilterValueUnusable(filter.Path, key, device: null);
            WriteWarning($"{problem.Message} {problem.RecommendedAction}");
        }

        WriteObject(filter);
    }
}
