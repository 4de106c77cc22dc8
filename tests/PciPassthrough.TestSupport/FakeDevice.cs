namespace PciPassthrough.TestSupport;

/// <summary>A device to write into a fake host tree. Null members are left out of the tree.</summary>
public sealed record FakeDevice(string Address)
{
    public int Vendor { get; init; } = 0x8086;
    public int Device { get; init; } = 0x100e;
    public int ClassCode { get; init; } = 0x020000;
    public int? SubsystemVendor { get; init; }
    public int? SubsystemDevice { get; init; }
    public int Revision { get; init; }
    /// <summary>0 endpoint, 1 PCI bridge, 2 CardBus.</summary>
    public int HeaderType { get; init; }
    public bool MultiFunction { get; init; }
    public string? Driver { get; init; }
    public string? DriverOverride { get; init; }
    public int? IommuGroup { get; init; }
    public int NumaNode { get; init; } = -1;
    public string? LocalCpuList { get; init; } = "0-3";
    public int? TotalVfs { get; init; }
    public int? NumVfs { get; init; }
    public string? PhysicalFunction { get; init; }
    public int VfIndex { get; init; }
    /// <summary>A PF's sriov_drivers_autoprobe, sriov_offset, sriov_stride, sriov_vf_device (hex); null leaves the file out.</summary>
    public int? DriversAutoprobe { get; init; }
    public int? VfOffset { get; init; }
    public int? VfStride { get; init; }
    public int? VfDevice { get; init; }
    public string[] NetworkInterfaces { get; init; } = [];
    public bool? BootVga { get; init; }
    /// <summary>The reset_method content ("flr", "pm bus"); null writes neither reset nor reset_method.</summary>
    public string? ResetMethods { get; init; } = "flr";
    /// <summary>The upstream bridge, added before this device: the sysfs path nests under it.</summary>
    public string? Parent { get; init; }
    /// <summary>Whether the tree has the device's uevent file (the kernel always makes one; captured trees may lack it).</summary>
    public bool Uevent { get; init; } = true;
    /// <summary>Config space bytes to write instead of the generated 256 bytes.</summary>
    public byte[]? ConfigBytes { get; init; }
}
