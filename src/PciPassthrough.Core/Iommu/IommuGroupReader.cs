using System.Globalization;
using PciPassthrough.HostFs;
using PciPassthrough.Sysfs;
using PciPassthrough.Topology;

namespace PciPassthrough.Iommu;

/// <summary>Reads IOMMU groups from <c>/sys/kernel/iommu_groups</c> and their <c>/dev/vfio</c> nodes.</summary>
public sealed class IommuGroupReader
{
    private const string GroupsPath = "/sys/kernel/iommu_groups";
    private readonly HostRoot _root;
    private readonly PciDeviceReader _devices;
    private PciTopology? _topology;

    public IommuGroupReader(HostRoot root, PciDeviceReader devices)
    {
        _root = root;
        _devices = devices;
    }

    /// <summary>Every group number on the host, ascending.</summary>
    public IReadOnlyList<int> ListNumbers() => _root.ListNames(GroupsPath)
        .Select(n => int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var g) ? g : -1)
        .Where(g => g >= 0)
        .Order()
        .ToList();

    /// <summary>One group with its members read in full; null when the group does not exist.</summary>
    public IommuGroup? Read(int number)
    {
        var groupPath = $"{GroupsPath}/{number.ToString(CultureInfo.InvariantCulture)}";
        if (!Directory.Exists(_root.Resolve(groupPath)))
        {
            return null;
        }

        var members = _root.ListNames(groupPath + "/devices")
            .Select(n => PciAddress.TryParse(n, out var a) ? a : (PciAddress?)null)
            .OfType<PciAddress>()
            .Order()
            .Select(_devices.Read)
            .OfType<PciDevice>()
            .ToList();
        var group = new IommuGroup(number, members, ReadNode(number), _root.Path);
        Explain(group);
        return group;
    }

    /// <summary>The tree the explanations were computed from (read once, when a shared group needs it).</summary>
    public PciTopology Tree => _topology ??= PciTopology.Read(_root, new PciDeviceReader(_root, Ids.PciIdDatabase.Empty), includeAcs: false);

    private void Explain(IommuGroup group)
    {
        var addresses = group.Devices.Select(d => d.PciAddress).ToList();
        var explanation = addresses.Count <= 1
            ? new IsolationExplanation(IsolationReason.OwnGroup, null, "Alone in its IOMMU group.", null)
            : IsolationAnalyzer.Explain(Tree, addresses);
        group.IsolationReason = explanation.Reason;
        group.UpstreamBlocker = explanation.UpstreamBlocker;
        group.IsolationDetail = explanation.Detail;
        group.IsolationRemedy = explanation.Remedy;
    }

    private VfioDeviceNode? ReadNode(int number)
    {
        var hostPath = "/dev/vfio/" + number.ToString(CultureInfo.InvariantCulture);
        var stat = FileOwnership.Read(_root.Resolve(hostPath));
        return stat is null
            ? null
            : new VfioDeviceNode(hostPath, FileOwnership.NameFor(_root, "/etc/passwd", stat.Uid), FileOwnership.NameFor(_root, "/etc/group", stat.Gid), stat.OctalMode);
    }
}
