using System.Management.Automation;
using PciPassthrough.OpenNebula.Placement;
using PciPassthrough.OpenNebula.Templates;
using PciPassthrough.PowerShell.Common;

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

    /// <summary>The VM's machine type (OS/MACHINE): pc (the default) lays devices out flat on one bus, q35 on PCIe root ports.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Machine { get; set; } = "pc";

    /// <summary>oned.conf's PCI_PASSTHROUGH_BUS: the guest bus of sections without VM_BUS (flat layout).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string PciPassthroughBus { get; set; } = PciPlacementOptions.DefaultPassthroughBus;

    /// <summary>The NUMA nodes the VM is pinned to: their devices are tried first; on q35 each node gets a pcie-expander-bus.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidateRange(0, 4095)]
    public int[] NumaNode { get; set; } = [];

    /// <summary>Only the hosts that can take the VM.</summary>
    [Parameter]
    public SwitchParameter Available { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var host in Inventory)
        {
            PciPlacement placement;
            try
            {
                placement = PciPlacer.Place(host, Section, new PciPlacementOptions { Machine = Machine, PassthroughBus = PciPassthroughBus, NumaNodes = NumaNode.Distinct().ToArray(), PreferNumaNode = PreferNumaNode });
            }
            catch (PciPassthroughException e)
            {
                ThrowTerminatingError(ErrorRecords.From(e));
                return;
            }

            if (placement.CanHost || !Available)
            {
                WriteObject(placement);
            }
        }
    }
}
