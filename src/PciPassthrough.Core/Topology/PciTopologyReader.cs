using System.Globalization;
using PciPassthrough.HostFs;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Topology;

/// <summary>
/// Builds the host's PCIe tree from sysfs: the nesting of <c>/sys/devices/pciDDDD:BB/…</c> gives each
/// function's parent bridge; config space gives the port type, bus range and ACS; the kernel's
/// <c>current_link_*</c>/<c>max_link_*</c> files give the link. Nothing here writes.
/// </summary>
public sealed class PciTopology
{
    private readonly Dictionary<string, PciTopologyNode> _nodes;

    private PciTopology(Dictionary<string, PciTopologyNode> nodes, IReadOnlyList<PciTopologyNode> ordered, bool extendedUnreadable)
    {
        _nodes = nodes;
        Ordered = ordered;
        ExtendedSpaceUnreadable = extendedUnreadable;
    }

    /// <summary>Every function, depth first in address order (the order lspci -tv draws).</summary>
    public IReadOnlyList<PciTopologyNode> Ordered { get; }

    /// <summary>True when some PCIe function's extended config space could not be read (not root): ACS is then unknown.</summary>
    public bool ExtendedSpaceUnreadable { get; }

    public static string NotRootWarning =>
        "The PCIe extended configuration space is not readable (only root reads past the first 64 bytes): ACS capability and control, port types and isolation are unknown (null), not guessed. Run as root to see them.";

    public PciTopologyNode? Find(string address) => _nodes.GetValueOrDefault(address);

    /// <summary>The bridges above a function, nearest first.</summary>
    public IEnumerable<PciTopologyNode> Ancestors(PciTopologyNode node)
    {
        var seen = new HashSet<string>();
        var current = node.Parent is string p ? Find(p) : null;
        while (current is not null && seen.Add(current.PciAddress))
        {
            yield return current;
            current = current.Parent is string pp ? Find(pp) : null;
        }
    }

    /// <summary>The function and everything below it, depth first.</summary>
    public IEnumerable<PciTopologyNode> Subtree(PciTopologyNode node, int maxDepth)
    {
        var stack = new Stack<(PciTopologyNode Node, int Level)>();
        stack.Push((node, 0));
        while (stack.Count > 0)
        {
            var (n, level) = stack.Pop();
            yield return n;
            if (level >= maxDepth)
            {
                continue;
            }

            for (var i = n.Children.Length - 1; i >= 0; i--)
            {
                if (Find(n.Children[i]) is { } child)
                {
                    stack.Push((child, level + 1));
                }
            }
        }
    }

    /// <summary>Reads the whole tree. <paramref name="includeAcs"/> keeps each function's ACS words on its node.</summary>
    public static PciTopology Read(HostRoot root, PciDeviceReader reader, bool includeAcs, CancellationToken cancel = default)
    {
        var nodes = new Dictionary<string, PciTopologyNode>(StringComparer.Ordinal);
        var extendedUnreadable = false;
        foreach (var device in reader.ReadAll(cancel: cancel))
        {
            var dir = root.Resolve(PciDeviceReader.DevicesPath + "/" + device.PciAddress);
            var config = PciConfigSpace.Read(dir + "/config");
            var (rootBus, parent) = Placement(dir, device);
            var node = new PciTopologyNode
            {
                PciAddress = device.PciAddress,
                RootBus = rootBus,
                Parent = parent,
                IommuGroup = device.IommuGroup,
                Driver = device.Driver,
                VendorId = device.VendorId,
                DeviceId = device.DeviceId,
                DeviceName = device.DeviceName,
                ConfigAccess = config.Access,
                PortType = config.PortType,
                SecondaryBus = ReadInt(dir + "/secondary_bus_number") ?? config.SecondaryBus,
                SubordinateBus = ReadInt(dir + "/subordinate_bus_number") ?? config.SubordinateBus,
                LinkSpeed = ReadText(dir + "/current_link_speed") ?? PciConfigSpace.SpeedText(config.LinkSpeedCode),
                LinkWidth = ReadInt(dir + "/current_link_width") ?? NonZero(config.LinkWidth),
                MaxLinkSpeed = ReadText(dir + "/max_link_speed") ?? PciConfigSpace.SpeedText(config.MaxLinkSpeedCode),
                MaxLinkWidth = ReadInt(dir + "/max_link_width") ?? NonZero(config.MaxLinkWidth),
                Root = root.Path,
                Config = config,
            };
            node.Kind = KindOf(device, config);
            node.IsConventional = config.IsPcie == false;
            node.IsolatesBelow = IsolationOf(node, config);
            if (config.IsPcie == true && config.Access != ConfigSpaceAccess.Extended)
            {
                extendedUnreadable = true;
            }
            else if (config.Access is ConfigSpaceAccess.HeaderOnly or ConfigSpaceAccess.Unreadable && (device.IsBridge || device.Class == "0604"))
            {
                extendedUnreadable = true;
            }

            if (includeAcs)
            {
                node.Acs = AcsState.From(config);
            }

            nodes[node.PciAddress] = node;
        }

        foreach (var group in nodes.Values.Where(n => n.Parent is not null).GroupBy(n => n.Parent!))
        {
            if (nodes.TryGetValue(group.Key, out var parent))
            {
                parent.Children = group.Select(n => n.PciAddress).Order(StringComparer.Ordinal).ToArray();
            }
        }

        var ordered = new List<PciTopologyNode>(nodes.Count);
        var topology = new PciTopology(nodes, ordered, extendedUnreadable);
        foreach (var top in nodes.Values.Where(n => n.Parent is null || !nodes.ContainsKey(n.Parent)).OrderBy(n => n.PciAddress, StringComparer.Ordinal))
        {
            foreach (var n in topology.Subtree(top, int.MaxValue))
            {
                n.Depth = n == top ? 0 : nodes[n.Parent!].Depth + 1;
                ordered.Add(n);
            }
        }

        return topology;
    }

    /// <summary>Fills <see cref="PciTopologyNode.Tree"/> for the nodes to be shown, in the order given (depth first).</summary>
    public static void Draw(IReadOnlyList<PciTopologyNode> shown)
    {
        var set = shown.Select(n => n.PciAddress).ToHashSet(StringComparer.Ordinal);
        var byAddress = shown.ToDictionary(n => n.PciAddress, StringComparer.Ordinal);
        foreach (var node in shown)
        {
            var label = node.PciAddress.StartsWith("0000:", StringComparison.Ordinal) ? node.PciAddress[5..] : node.PciAddress;
            if (node.Parent is null || !set.Contains(node.Parent))
            {
                node.Tree = label;
                continue;
            }

            // Walk up: each ancestor that has later shown siblings continues its vertical line.
            var parts = new List<string>();
            var child = node;
            var parent = byAddress[node.Parent];
            var first = true;
            while (true)
            {
                var siblings = parent.Children.Where(set.Contains).ToList();
                var last = siblings.Count == 0 || siblings[^1] == child.PciAddress;
                parts.Add(first ? (last ? "\\-" : "+-") : (last ? "  " : "| "));
                first = false;
                if (parent.Parent is null || !set.Contains(parent.Parent))
                {
                    break;
                }

                child = parent;
                parent = byAddress[parent.Parent];
            }

            parts.Reverse();
            node.Tree = string.Concat(parts) + label;
        }
    }

    private static int? NonZero(int? value) => value is > 0 ? value : null;

    // The device link resolves to …/devices/pciDDDD:BB/<bridge>/…/<address>: the segment before the last is
    // the parent bridge when it is a PCI address. A captured tree without links has no parents.
    private static (string RootBus, string? Parent) Placement(string dir, PciDevice device)
    {
        var fallback = device.PciAddress[..^5];
        string? target;
        try
        {
            target = new FileInfo(dir).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            target = null;
        }

        if (target is null)
        {
            return (fallback, null);
        }

        var segments = target.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var rootIndex = Array.FindLastIndex(segments, s => s.StartsWith("pci", StringComparison.Ordinal) && s.Length > 3 && s.Contains(':', StringComparison.Ordinal));
        var rootBus = rootIndex >= 0 ? segments[rootIndex][3..] : fallback;
        var parent = segments.Length >= 2 && PciAddress.TryParse(segments[^2], out var p) && segments.Length - 2 > rootIndex ? p.ToString() : null;
        return (rootBus, parent);
    }

    private static TopologyNodeKind KindOf(PciDevice device, PciConfigSpace config)
    {
        if (device.SriovRole == SriovRole.VF)
        {
            return TopologyNodeKind.VirtualFunction;
        }

        if (config.PortType is PciePortType t)
        {
            return t switch
            {
                PciePortType.RootPort => TopologyNodeKind.RootPort,
                PciePortType.SwitchUpstream => TopologyNodeKind.SwitchUpstream,
                PciePortType.SwitchDownstream => TopologyNodeKind.SwitchDownstream,
                PciePortType.PcieToPciBridge => TopologyNodeKind.PciePciBridge,
                PciePortType.PciToPcieBridge => TopologyNodeKind.PciPcieBridge,
                PciePortType.RootComplexIntegratedEndpoint => TopologyNodeKind.RootComplexEndpoint,
                PciePortType.RootComplexEventCollector => TopologyNodeKind.RootComplexEventCollector,
                _ => TopologyNodeKind.Endpoint,
            };
        }

        if (device.Class == "0600")
        {
            return TopologyNodeKind.HostBridge;
        }

        if (device.HeaderType is 1 or 2 || device.Class == "0604")
        {
            return TopologyNodeKind.PciBridge;
        }

        return device.HeaderType is 0 ? TopologyNodeKind.Endpoint : TopologyNodeKind.Unknown;
    }

    // The kernel's pci_acs_enabled(dev, REQ_ACS_FLAGS) for a function on the path (quirks aside).
    internal static bool? IsolationOf(PciTopologyNode node, PciConfigSpace config)
    {
        if (config.Access is ConfigSpaceAccess.Unreadable or ConfigSpaceAccess.HeaderOnly)
        {
            return null;
        }

        if (config.IsPcie == false)
        {
            return false; // conventional PCI: a shared bus, never isolated
        }

        switch (config.PortType)
        {
            case PciePortType.PcieToPciBridge or PciePortType.PciToPcieBridge or PciePortType.RootComplexEventCollector:
                return false;
            case PciePortType.RootPort or PciePortType.SwitchDownstream:
                return AcsState.From(config)?.EffectiveIsolation;
            case PciePortType.Endpoint or PciePortType.SwitchUpstream or PciePortType.LegacyEndpoint or PciePortType.RootComplexIntegratedEndpoint:
                return config.MultiFunction ? AcsState.From(config)?.EffectiveIsolation : true;
            default:
                return true;
        }
    }

    private static string? ReadText(string path)
    {
        try
        {
            var text = File.ReadAllText(path).Trim();
            return text.Length == 0 || text.StartsWith("Unknown", StringComparison.OrdinalIgnoreCase) ? null : text;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static int? ReadInt(string path) =>
        ReadText(path) is string t && int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
}
