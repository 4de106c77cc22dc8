using System.Management.Automation;
using PciPassthrough.Iommu;
using PciPassthrough.PowerShell.Common;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>Checks whether the host can pass PCI devices through: CPU, firmware, kernel, IOMMU, interrupt remapping, vfio.</summary>
[Cmdlet(VerbsDiagnostic.Test, "IommuSupport")]
[OutputType(typeof(IommuSupportReport))]
[OutputType(typeof(bool))]
public sealed class TestIommuSupportCommand : PciCmdletBase
{
    /// <summary>Return only $true or $false, as Test-Connection -Quiet does.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);

    protected override void ProcessRecord()
    {
        var root = ResolveRoot();
        if (!_reported.Add(root.Path))
        {
            return; // objects piped in from one host share one report
        }

        var report = Guard(() => SessionFor(root).Iommu);
        foreach (var check in report.Checks)
        {
            WriteVerbose($"{check.Name}: {check.Status}. {check.Detail}");
        }

        WriteObject(Quiet ? report.Supported : report);
    }
}
