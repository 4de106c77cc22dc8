namespace PciPassthrough.Sysfs;

/// <summary>
/// Which parts of a device <see cref="PciDeviceReader"/> reads. <see cref="All"/> (the default) reads every
/// property; a caller that needs less (OpenNebula's probe, on every monitoring cycle) turns the rest off, and
/// the properties it skips keep their empty values (null, false, an empty array). The address, ids, class and
/// their pci.ids names, the NUMA node, the SR-IOV role (PF or VF, the VF count, the PF of a VF) and the network
/// interfaces are always read.
/// </summary>
public sealed class PciDeviceReadOptions
{
    /// <summary>Every property, as Get-PciDevice shows them.</summary>
    public static PciDeviceReadOptions All { get; } = new();

    /// <summary>subsystem_vendor and subsystem_device, and their names.</summary>
    public bool Subsystem { get; init; } = true;

    /// <summary>The revision and header type (IsBridge, IsEndpoint), from revision and config.</summary>
    public bool HeaderType { get; init; } = true;

    /// <summary>The bound driver (the driver link).</summary>
    public bool Driver { get; init; } = true;

    /// <summary>driver_override.</summary>
    public bool DriverOverride { get; init; } = true;

    /// <summary>The IOMMU group number (the iommu_group link).</summary>
    public bool IommuGroup { get; init; } = true;

    /// <summary>InUse: the processes holding the group's /dev/vfio node, from /proc/*/fd. Needs <see cref="IommuGroup"/>.</summary>
    public bool InUse { get; init; } = true;

    /// <summary>local_cpulist.</summary>
    public bool LocalCpuList { get; init; } = true;

    /// <summary>boot_vga.</summary>
    public bool BootVga { get; init; } = true;

    /// <summary>ResetMethods and CanReset, from reset_method and reset.</summary>
    public bool Reset { get; init; } = true;

    /// <summary>VgpuFramework: two more lookups per device, which the probe (it judges MDEV_MODE itself) skips.</summary>
    public bool VgpuFramework { get; init; } = true;

    /// <summary>A PF's VF addresses (the virtfnN links), TotalVfs and NumVfs are read either way.</summary>
    public bool VirtualFunctions { get; init; } = true;

    /// <summary>What OpenNebula's probe reads besides the properties, as pci.rb reads it (see <see cref="PciDevice.Probe"/>).</summary>
    internal bool ProbeFacts { get; init; }
}
