namespace PciPassthrough.TestSupport;

/// <summary>
/// A host with one of everything the inventory must get right: bridges, a multi-function IOMMU group,
/// an SR-IOV PF with VFs, a NIC with an interface, the boot VGA, a second PCI domain, an id pci.ids
/// does not know, and a small pci.ids of its own so names are exact whatever the machine has installed.
/// </summary>
public static class SampleHost
{
    public const string PciIds = """
        # A trimmed pci.ids for tests
        10de  NVIDIA Corporation
        	1eb8  TU104GL [Tesla T4]
        		10de 12a2  TU104GL [Tesla T4]
        1234  Technical Corporation
        	1111  QEMU Virtual Video Controller
        1af4  Red Hat, Inc.
        144d  Samsung Electronics Co Ltd
        	a808  NVMe SSD Controller SM981/PM981/PM983
        8086  Intel Corporation
        	1520  I350 Ethernet Controller Virtual Function
        	1521  I350 Gigabit Network Connection
        		8086 0001  Ethernet Server Adapter I350-T4
        	2918  82801IB (ICH9) LPC Interface Controller
        	2922  82801IR/IO/IH (ICH9R/DO/DH) 6 port SATA Controller [AHCI mode]
        	2930  82801I (ICH9 Family) SMBus Controller
        	29c0  82G33/G31/P35/P31 Express DRAM Controller
        	3c02  Xeon E5/Core i7 DMI2
        C 01  Mass storage controller
        	06  SATA controller
        		01  AHCI 1.0
        	08  Non-Volatile memory controller
        		02  NVM Express
        C 02  Network controller
        	00  Ethernet controller
        C 03  Display controller
        	00  VGA compatible controller
        	02  3D controller
        C 06  Bridge
        	00  Host bridge
        	01  ISA bridge
        	04  PCI bridge
        C 0c  Serial bus controller
        	05  SMBus
        C ff  Unassigned class
        S 1af4
        	1100  QEMU Virtual Machine
        X 8086  A reserved block the parser must skip
        	0001  skipped
        """;

    public static FakeHost Create()
    {
        var host = new FakeHost();
        host.WriteFile("usr/share/misc/pci.ids", PciIds.Replace("        ", "", StringComparison.Ordinal));
        host.Add(new FakeDevice("0000:00:00.0") { Vendor = 0x8086, Device = 0x29c0, ClassCode = 0x060000, IommuGroup = 0, SubsystemVendor = 0x1af4, SubsystemDevice = 0x1100 })
            .Add(new FakeDevice("0000:00:01.0") { Vendor = 0x8086, Device = 0x3c02, ClassCode = 0x060400, HeaderType = 1, Driver = "pcieport", IommuGroup = 1, Revision = 0x07 })
            .Add(new FakeDevice("0000:00:1f.0") { Vendor = 0x8086, Device = 0x2918, ClassCode = 0x060100, Driver = "lpc_ich", IommuGroup = 5, MultiFunction = true, Revision = 0x02 })
            .Add(new FakeDevice("0000:00:1f.2") { Vendor = 0x8086, Device = 0x2922, ClassCode = 0x010601, Driver = "ahci", IommuGroup = 5, Revision = 0x02 })
            .Add(new FakeDevice("0000:00:1f.3") { Vendor = 0x8086, Device = 0x2930, ClassCode = 0x0c0500, Driver = "i801_smbus", IommuGroup = 5, Revision = 0x02 })
            .Add(new FakeDevice("0000:01:00.0") { Vendor = 0x10de, Device = 0x1eb8, ClassCode = 0x030200, SubsystemVendor = 0x10de, SubsystemDevice = 0x12a2, Driver = "nvidia", IommuGroup = 6, NumaNode = 0, LocalCpuList = "0-7,16-23", BootVga = false, Revision = 0xa1 })
            .Add(new FakeDevice("0000:02:00.0") { Vendor = 0x8086, Device = 0x1521, ClassCode = 0x020000, SubsystemVendor = 0x8086, SubsystemDevice = 0x0001, Driver = "igb", IommuGroup = 7, NumaNode = 1, LocalCpuList = "8-15", TotalVfs = 7, NumVfs = 2, NetworkInterfaces = ["enp2s0f0"], Revision = 0x01 })
            .Add(new FakeDevice("0000:02:10.0") { Vendor = 0x8086, Device = 0x1520, ClassCode = 0x020000, Driver = "igbvf", IommuGroup = 8, NumaNode = 1, PhysicalFunction = "0000:02:00.0", VfIndex = 0, NetworkInterfaces = ["enp2s16"], Revision = 0x01 })
            .Add(new FakeDevice("0000:02:10.4") { Vendor = 0x8086, Device = 0x1520, ClassCode = 0x020000, Driver = "vfio-pci", DriverOverride = "vfio-pci", IommuGroup = 9, NumaNode = 1, PhysicalFunction = "0000:02:00.0", VfIndex = 1, Revision = 0x01 })
            .Add(new FakeDevice("0000:03:00.0") { Vendor = 0x1234, Device = 0x1111, ClassCode = 0x030000, SubsystemVendor = 0x1af4, SubsystemDevice = 0x1100, Driver = "bochs-drm", IommuGroup = 10, BootVga = true, Revision = 0x02 })
            .Add(new FakeDevice("0000:04:00.0") { Vendor = 0xabab, Device = 0x7777, ClassCode = 0xff0000, SubsystemVendor = 0xcdcd, SubsystemDevice = 0x0001, LocalCpuList = null })
            .Add(new FakeDevice("0001:00:00.0") { Vendor = 0x144d, Device = 0xa808, ClassCode = 0x010802, SubsystemVendor = 0x144d, SubsystemDevice = 0xa801, Driver = "nvme", IommuGroup = 11, NumaNode = 0 });
        return host;
    }
}
