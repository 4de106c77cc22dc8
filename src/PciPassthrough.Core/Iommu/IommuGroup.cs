namespace PciPassthrough.Iommu;

/// <summary>
/// An IOMMU group: the unit VFIO assigns. <c>/dev/vfio/&lt;N&gt;</c> opens only when every member is on
/// vfio-pci or has no driver (bridges excepted), so one member on a host driver blocks them all.
/// </summary>
public sealed class IommuGroup
{
    /// <summary>Drivers that do not stop a group from being viable (the kernel's own allowance).</summary>
    internal static readonly string[] HarmlessDrivers = ["vfio-pci", "pci-stub", "pcieport"];

    public IommuGroup(int number, IReadOnlyList<PciDevice> devices, VfioDeviceNode? devicePath, string root)
    {
        Number = number;
        Devices = devices.ToArray();
        Blockers = Devices.Where(IsBlocker).ToArray();
        Viable = Blockers.Length == 0;
        DevicePath = devicePath;
        InUse = Devices.SelectMany(d => d.InUse).DistinctBy(u => u.ProcessId).ToArray();
        Root = root;
    }

    public int Number { get; }

    public PciDevice[] Devices { get; }

    /// <summary>True when every non-bridge member is on vfio-pci or has no driver.</summary>
    public bool Viable { get; }

    /// <summary>The members still on host drivers: all of them must move before the group can be assigned.</summary>
    public PciDevice[] Blockers { get; }

    /// <summary><c>/dev/vfio/&lt;N&gt;</c> with its owner, group and mode; null when it does not exist.</summary>
    public VfioDeviceNode? DevicePath { get; }

    /// <summary>The processes (guests) holding the group open.</summary>
    public VfioUser[] InUse { get; }

    public string Root { get; }

    /// <summary>Why the group holds its members (explained from ACS; the kernel's grouping is the truth).</summary>
    public PciPassthrough.Topology.IsolationReason IsolationReason { get; internal set; } = PciPassthrough.Topology.IsolationReason.OwnGroup;

    /// <summary>The bridge or port whose missing isolation pulls the members together; null when none is to blame.</summary>
    public string? UpstreamBlocker { get; internal set; }

    /// <summary>The explanation in words.</summary>
    public string? IsolationDetail { get; internal set; }

    /// <summary>What would give a member a group of its own; null for OwnGroup.</summary>
    public string? IsolationRemedy { get; internal set; }

    /// <summary>A member on a host driver that is not a bridge.</summary>
    public static bool IsBlocker(PciDevice device) =>
        !device.IsBridge && device.Driver is string driver && !HarmlessDrivers.Contains(driver);

    public override string ToString() => Number.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
