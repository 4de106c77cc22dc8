namespace PciPassthrough.Vfio;

/// <summary>
/// Who holds which VFIO file open, from one read of <c>/proc/*/fd</c>: group files by group number, and device files
/// and mediated devices' groups by the PCI function (or mdev UUID) they lead to.
/// </summary>
internal sealed class VfioHolders
{
    internal static readonly VfioHolders None = new(new Dictionary<int, VfioUser[]>(), new Dictionary<string, VfioUser[]>(StringComparer.Ordinal), complete: true, unreadable: 0);

    internal VfioHolders(IReadOnlyDictionary<int, VfioUser[]> groups, IReadOnlyDictionary<string, VfioUser[]> devices, bool complete, int unreadable)
    {
        Groups = groups;
        Devices = devices;
        Complete = complete;
        UnreadableProcesses = unreadable;
    }

    /// <summary>Group number to the processes holding <c>/dev/vfio/&lt;group&gt;</c> (an mdev's group included).</summary>
    public IReadOnlyDictionary<int, VfioUser[]> Groups { get; }

    /// <summary>A PCI address or mdev UUID to the processes holding it through its vfio device file, or (for a
    /// mediated device's parent) through an mdev's group.</summary>
    public IReadOnlyDictionary<string, VfioUser[]> Devices { get; }

    /// <summary>False when some process's open files could not be read (the caller is not root): an empty answer
    /// is then no evidence that a device is free.</summary>
    public bool Complete { get; }

    /// <summary>How many processes' open files could not be read.</summary>
    public int UnreadableProcesses { get; }

    /// <summary>Every holder of a function: its group's and its own (device file, mdevs on it), each process once.</summary>
    public VfioUser[] For(int? group, string address)
    {
        var byGroup = group is int g && Groups.TryGetValue(g, out var u) ? u : [];
        var byDevice = Devices.TryGetValue(address, out var d) ? d : [];
        return byDevice.Length == 0 ? byGroup
            : byGroup.Length == 0 ? byDevice
            : byGroup.Concat(byDevice).DistinctBy(h => (h.ProcessId, h.Path)).OrderBy(h => h.ProcessId).ToArray();
    }

    /// <summary>In use, free, or unknown (free as far as could be read, but some processes could not be).</summary>
    public DeviceUsage UsageOf(VfioUser[] holders) =>
        holders.Length > 0 ? DeviceUsage.InUse : Complete ? DeviceUsage.NotInUse : DeviceUsage.Unknown;
}
