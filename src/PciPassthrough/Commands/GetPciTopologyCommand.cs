using System.Management.Automation;
using PciPassthrough.Ids;
using PciPassthrough.PowerShell.Common;
using PciPassthrough.PowerShell.Completion;
using PciPassthrough.Sysfs;
using PciPassthrough.Topology;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>The host's PCIe tree: root ports, switches, bridges and endpoints, with links, groups and ACS.</summary>
[Cmdlet(VerbsCommon.Get, "PciTopology")]
[OutputType(typeof(PciTopologyNode))]
public sealed class GetPciTopologyCommand : PciCmdletBase
{
    private readonly List<string> _addresses = [];

    /// <summary>Devices whose path from the root bus and subtree to show; the whole tree when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("PciAddress")]
    public string[]? Address { get; set; }

    /// <summary>How many levels below the root buses (or below each -Address device) to show.</summary>
    [Parameter]
    [ValidateRange(0, 255)]
    public int Depth { get; set; } = int.MaxValue;

    /// <summary>Fill each node's Acs property with the ACS capability and control words (extended config space: root only).</summary>
    [Parameter]
    public SwitchParameter IncludeAcs { get; set; }

    protected override void ProcessRecord()
    {
        if (Address is not null)
        {
            _addresses.AddRange(Address);
        }
    }

    protected override void EndProcessing()
    {
        var root = ResolveRoot();
        var reader = new PciDeviceReader(root, Guard(() => PciIdDatabaseLocator.Locate(root, null)));
        _ = Guard(reader.ListAddresses);
        var topology = Guard(() => PciTopology.Read(root, reader, IncludeAcs, StopToken));
        if (topology.ExtendedSpaceUnreadable)
        {
            WriteWarning(PciTopology.NotRootWarning);
        }

        List<PciTopologyNode> shown;
        if (_addresses.Count == 0)
        {
            shown = topology.Ordered.Where(n => n.Depth <= Depth).ToList();
        }
        else
        {
            var wanted = new HashSet<string>(StringComparer.Ordinal);
            foreach (var text in _addresses)
            {
                if (RequireOrReport(reader, text) is not { } device)
                {
                    continue;
                }

                if (topology.Find(device.PciAddress) is not { } node)
                {
                    continue;
                }

                wanted.UnionWith(topology.Ancestors(node).Select(a => a.PciAddress));
                wanted.UnionWith(topology.Subtree(node, Depth).Select(n => n.PciAddress));
            }

            shown = topology.Ordered.Where(n => wanted.Contains(n.PciAddress)).ToList();
        }

        PciTopology.Draw(shown);
        foreach (var node in shown)
        {
            WriteObject(node);
        }
    }
}
