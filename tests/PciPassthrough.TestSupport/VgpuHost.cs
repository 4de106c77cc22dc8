namespace PciPassthrough.TestSupport;

/// <summary>
/// A host for the probe's NVIDIA and SR-IOV rules: a vGPU-capable PF with two VFs (one with NVIDIA's
/// creatable_vgpu_types, one on the legacy mdev bus), a second NVIDIA card without SR-IOV, an SR-IOV NIC
/// PF with no VFs enabled and two interfaces, and a NIC with two interfaces neither of which is a port.
/// </summary>
public static class VgpuHost
{
    public static FakeHost Create()
    {
        var host = new FakeHost();
        host.WriteFile("usr/share/misc/pci.ids", SampleHost.PciIds.Replace("        ", "", StringComparison.Ordinal));
        host.Add(new FakeDevice("0000:41:00.0") { Vendor = 0x10de, Device = 0x1eb8, ClassCode = 0x030200, Driver = "nvidia", IommuGroup = 20, NumaNode = 1, TotalVfs = 16, NumVfs = 2 })
            .Add(new FakeDevice("0000:41:00.4") { Vendor = 0x10de, Device = 0x1eb8, ClassCode = 0x030200, Driver = "nvidia", IommuGroup = 21, NumaNode = 1, PhysicalFunction = "0000:41:00.0", VfIndex = 0 })
            .Add(new FakeDevice("0000:41:00.5") { Vendor = 0x10de, Device = 0x1eb8, ClassCode = 0x030200, Driver = "nvidia", IommuGroup = 22, NumaNode = 1, PhysicalFunction = "0000:41:00.0", VfIndex = 1 })
            .Add(new FakeDevice("0000:42:00.0") { Vendor = 0x10de, Device = 0x1eb8, ClassCode = 0x030200, Driver = "vfio-pci", IommuGroup = 23, NumaNode = 0 })
            .Add(new FakeDevice("0000:43:00.0") { Vendor = 0x8086, Device = 0x1521, ClassCode = 0x020000, Driver = "igb", IommuGroup = 24, NumaNode = 0, TotalVfs = 7, NumVfs = 0, NetworkInterfaces = ["enp67s0f0", "enp67s0f0np0"] })
            .Add(new FakeDevice("0000:44:00.0") { Vendor = 0x8086, Device = 0x1521, ClassCode = 0x020000, Driver = "igb", IommuGroup = 25, NumaNode = -1, NetworkInterfaces = ["eth0", "eth1"] });
        host.WriteFile("sys/bus/pci/devices/0000:41:00.4/nvidia/creatable_vgpu_types", "ID    : vGPU Name\n557   : NVIDIA A100-4C\n558   : NVIDIA A100-5C\n");
        host.WriteFile("sys/class/mdev_bus/0000:41:00.5/mdev_supported_types/nvidia-558/name", "GRID T4-2Q\n");
        host.WriteFile("sys/class/mdev_bus/0000:41:00.5/mdev_supported_types/nvidia-557/name", "GRID T4-1Q\n");
        host.WriteFile("sys/bus/pci/devices/0000:43:00.0/net/enp67s0f0/phys_port_name", "\n");
        host.WriteFile("sys/bus/pci/devices/0000:43:00.0/net/enp67s0f0np0/phys_port_name", "p0\n");
        return host;
    }
}
