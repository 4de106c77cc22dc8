namespace PciPassthrough.Mdev;

/// <summary>
/// One type a mediated-device parent offers (<c>/sys/class/mdev_bus/&lt;parent&gt;/mdev_supported_types/&lt;type&gt;</c>).
/// Parents are not always PCI devices: the kernel's mtty sample is <c>mtty</c>, s390's vfio-ap is <c>matrix</c>.
/// </summary>
public sealed class MediatedDeviceType
{
    /// <summary>The parent's name under /sys/class/mdev_bus (a PCI address, or a name such as <c>mtty</c>).</summary>
    public string Parent { get; init; } = "";

    /// <summary>True when the parent is a PCI function of this host.</summary>
    public bool ParentIsPci { get; init; }

    /// <summary>The type ID, <c>&lt;driver&gt;-&lt;group&gt;</c> (<c>nvidia-558</c>, <c>mtty-1</c>).</summary>
    public string Type { get; init; } = "";

    /// <summary>The type's <c>name</c> file (optional in the kernel), or null.</summary>
    public string? Name { get; init; }

    /// <summary>The type's <c>description</c> file (optional; mtty has none), or null.</summary>
    public string? Description { get; init; }

    /// <summary><c>vfio-pci</c>, <c>vfio-ccw</c>, <c>vfio-ap</c>...; null when unreadable.</summary>
    public string? DeviceApi { get; init; }

    /// <summary>How many more instances the parent can create now; null when unreadable.</summary>
    public int? AvailableInstances { get; init; }

    /// <summary>The UUIDs of this type's active instances (its <c>devices/</c> folder).</summary>
    public string[] Instances { get; init; } = [];

    public string Root { get; init; } = "/";

    public override string ToString() => $"{Parent}/{Type}";
}
