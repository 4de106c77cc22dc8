using System.Management.Automation;
using PciPassthrough.OpenNebula.Placement;
using PciPassthrough.OpenNebula.Templates;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>For a VM's PCI sections, which hosts can take it and which device each section gets, by OpenNebula's rules.</summary>
[Cmdlet(VerbsCommon.Find, "PciPlacement")]
[OutputType(typeof(PciPlacement))]
public sealed class FindPciPlacementCommand : PSCmdlet
{
    /// <summary>The VM template's PCI sections, in template order.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public PciTemplateSection[] Section { get; set; } = [];

    /// <summary>The candidate hosts (Import-PciHostInventory).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNullOrEmpty]
    public PciHostInventory[] Inventory { get; set; } = [];

    /// <summary>Prefer devices on this NUMA node (a pinned VM), falling back to any node.</summary>
    [Parameter]
    [ValidateRange(0, 4095)]
    public int? PreferNumaNode { get; set; }

    /// <summary>Only the hosts that can take the VM.</summary>
    [Parameter]
    public SwitchParameter Available { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var host in Inventory)
        {
            var placement = PciPlacer.Place(host, Section, PreferNumaNode);
            if (placement.CanHost || !Available)
            {
                WriteObject(placement);
            }
        }
    }
}
