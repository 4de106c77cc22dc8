namespace PciPassthrough;

/// <summary>
/// One PCI function of a host, as sysfs shows it. Property names are a contract: later cmdlets bind
/// them by name (also from deserialized remoting objects) and users' scripts read them. Hex values are
/// lowercase without <c>0x</c>, as <c>lspci -n</c> prints them.
/// </summary>
public sealed class PciDevice
{
    internal static readonly string[] NoStrings = [];
    internal static readonly VfioUser[] NoUsers = [];

    internal static readonly LibvirtAssignment[] NoAssignments = [];

    /// <summary><c>DDDD:BB:SS.F</c>.</summary>
    public string PciAddress { get; internal set; } = "";

    /// <summary>
    /// <c>BB:SS.F</c>, always without the domain. OpenNebula's SHORT_ADDRESS is lspci's slot column, which
    /// adds the domain outside domain 0000; the -ShortAddress filter and the probe use that form.
    /// </summary>
    public string ShortAddress { get; internal set; } = "";

    public string Domain { get; internal set; } = "";

    public string Bus { get; internal set; } = "";

    public string Slot { get; internal set; } = "";

    public string Function { get; internal set; } = "";

    public string? VendorId { get; internal set; }

    public string? DeviceId { get; internal set; }

    public string? SubsystemVendorId { get; internal set; }

    public string? SubsystemId { get; internal set; }

    public string? Revision { get; internal set; }

    /// <summary>Six hex digits: class, subclass, programming interface.</summary>
    public string? ClassCode { get; internal set; }

    /// <summary>Four hex digits, class and subclass, as OpenNebula's CLASS attribute.</summary>
    public string? Class { get; internal set; }

    public string? ProgIf { get; internal set; }

    /// <summary><c>vendor:device:class</c>, OpenNebula's TYPE.</summary>
    public string? Type { get; internal set; }

    public string? VendorName { get; internal set; }

    public string? DeviceName { get; internal set; }

    /// <summary>What lspci prints in its class column: the subclass name when pci.ids knows it.</summary>
    public string? ClassName { get; internal set; }

    public string? SubsystemVendorName { get; internal set; }

    public string? SubsystemName { get; internal set; }

    /// <summary>The bound driver, or null when no driver holds the device.</summary>
    public string? Driver { get; internal set; }

    /// <summary>The driver_override content, or null when unset.</summary>
    public string? DriverOverride { get; internal set; }

    public int? IommuGroup { get; internal set; }

    /// <summary>Null when the kernel reports -1 (no NUMA affinity known).</summary>
    public int? NumaNode { get; internal set; }

    public string? LocalCpuList { get; internal set; }

    /// <summary>The configuration-space header type (0 endpoint, 1 PCI bridge, 2 CardBus bridge), or null when unreadable.</summary>
    public int? HeaderType { get; internal set; }

    public bool IsBridge { get; internal set; }

    public bool IsEndpoint { get; internal set; }

    public SriovRole SriovRole { get; internal set; }

    public int? TotalVfs { get; internal set; }

    public int? NumVfs { get; internal set; }

    /// <summary>A PF's <c>sriov_drivers_autoprobe</c>: whether new VFs bind host drivers; null when absent.</summary>
    public bool? DriversAutoprobe { get; internal set; }

    /// <summary>A PF's <c>sriov_offset</c>: the routing-ID offset of its first VF; null when absent.</summary>
    public int? VfOffset { get; internal set; }

    /// <summary>A PF's <c>sriov_stride</c>: the routing-ID distance between its VFs; null when absent.</summary>
    public int? VfStride { get; internal set; }

    /// <summary>A PF's <c>sriov_vf_device</c>: the device ID its VFs will have (hex, as DeviceId); null when absent.</summary>
    public string? VfDeviceId { get; internal set; }

    /// <summary>A PF's VF addresses, in VF index order.</summary>
    public string[] VirtualFunctions { get; internal set; } = NoStrings;

    /// <summary>A VF's PF address.</summary>
    public string? PhysicalFunction { get; internal set; }

    public string[] NetworkInterfaces { get; internal set; } = NoStrings;

    /// <summary>True for the VGA device the firmware console runs on.</summary>
    public bool BootVga { get; internal set; }

    /// <summary>
    /// The processes holding the device open, each with its libvirt domain and OpenNebula VM: through its group file
    /// <c>/dev/vfio/&lt;group&gt;</c>, its vfio device file <c>/dev/vfio/devices/vfio&lt;N&gt;</c>, or the group of a
    /// mediated device on it. Empty when none was found (see <see cref="Usage"/> for whether that is known).
    /// </summary>
    public VfioUser[] InUse { get; internal set; } = NoUsers;

    /// <summary><c>InUse</c>, <c>NotInUse</c>, or <c>Unknown</c> when other processes' open files could not be read (not root).</summary>
    public DeviceUsage Usage { get; internal set; }

    /// <summary>Defined libvirt domains that are not running and name this device in a hostdev: starting one takes it.</summary>
    public LibvirtAssignment[] AssignedNotRunning { get; internal set; } = NoAssignments;

    /// <summary>
    /// The reset methods the kernel will try, in order (its <c>reset_method</c> file: flr, pm, bus, ...); on
    /// kernels before 5.15, which have no such file, <c>unknown</c> when a <c>reset</c> file exists. Empty when
    /// the device cannot be reset or its methods were disabled.
    /// </summary>
    public string[] ResetMethods { get; internal set; } = NoStrings;

    /// <summary>True when the kernel offers a function reset (a <c>reset</c> file, with a method left enabled).</summary>
    public bool CanReset { get; internal set; }

    /// <summary>
    /// How vGPUs are made on this function, by OpenNebula's MDEV_MODE rule: <c>Mdev</c> when it is a parent in
    /// /sys/class/mdev_bus (legacy mdev), else <c>NvidiaVendor</c> when it has NVIDIA's <c>nvidia/</c> folder
    /// (kernel 6.8+, vGPU 17+), else <c>None</c>.
    /// </summary>
    public VgpuFramework VgpuFramework { get; internal set; }

    /// <summary>The host root the device was read from, so that later cmdlets act on the same tree.</summary>
    public string Root { get; internal set; } = "/";

    /// <summary>What OpenNebula's probe reads besides the properties, when the reader was asked for it; else null.</summary>
    internal OpenNebula.Probe.ProbeFacts? Probe { get; set; }

    public override string ToString() => PciAddress;
}
