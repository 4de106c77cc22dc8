namespace PciPassthrough.TestSupport;

/// <summary>
/// A host for the SR-IOV cmdlets: an igb PF with a netdev and two VFs (one on igbvf with its own netdev, one on
/// vfio-pci held by the guest one-7), the testbed's NVMe PF (1b36:0010) on pci-pf-stub with no VFs, the same PF
/// with no driver, one on vfio-pci, an NVIDIA GPU PF, and an igb PF whose interface carries the default route.
/// </summary>
public static class SriovHost
{
    public const string IgbPf = "0000:02:00.0";
    public const string IgbVf0 = "0000:02:10.0";
    public const string IgbVf1 = "0000:02:10.4";
    public const string RoutePf = "0000:03:00.0";
    public const string NvmePf = "0000:08:00.0";
    public const string NoDriverPf = "0000:09:00.0";
    public const string VfioPf = "0000:0a:00.0";
    public const string NvidiaPf = "0000:41:00.0";
    public const string Plain = "0000:00:1f.2";

    public static FakeHost Create()
    {
        var host = new FakeHost().WithHealthyIntelIommu();
        host.Add(new FakeDevice(Plain) { Device = 0x2922, ClassCode = 0x010601, Driver = "ahci", IommuGroup = 5 })
            .Add(new FakeDevice(IgbPf) { Device = 0x1521, Driver = "igb", IommuGroup = 7, TotalVfs = 7, NumVfs = 2, DriversAutoprobe = 1, VfOffset = 128, VfStride = 4, VfDevice = 0x1520, NetworkInterfaces = ["enp2s0f0"] })
            .Add(new FakeDevice(IgbVf0) { Device = 0x1520, Driver = "igbvf", IommuGroup = 8, PhysicalFunction = IgbPf, VfIndex = 0, NetworkInterfaces = ["enp2s16"] })
            .Add(new FakeDevice(IgbVf1) { Device = 0x1520, Driver = "vfio-pci", DriverOverride = "vfio-pci", IommuGroup = 9, PhysicalFunction = IgbPf, VfIndex = 1 })
            .Add(new FakeDevice(RoutePf) { Device = 0x1521, Driver = "igb", IommuGroup = 10, TotalVfs = 7, NumVfs = 0, DriversAutoprobe = 1, VfOffset = 128, VfStride = 4, VfDevice = 0x1520, NetworkInterfaces = ["eno2"] })
            .Add(new FakeDevice(NvmePf) { Vendor = 0x1b36, Device = 0x0010, ClassCode = 0x010802, Driver = "pci-pf-stub", IommuGroup = 16, TotalVfs = 4, NumVfs = 0, DriversAutoprobe = 1, VfOffset = 1, VfStride = 1, VfDevice = 0x0010 })
            .Add(new FakeDevice(NoDriverPf) { Vendor = 0x1b36, Device = 0x0010, ClassCode = 0x010802, IommuGroup = 17, TotalVfs = 4, NumVfs = 0, DriversAutoprobe = 1, VfOffset = 1, VfStride = 1, VfDevice = 0x0010 })
            .Add(new FakeDevice(VfioPf) { Vendor = 0x1b36, Device = 0x0010, ClassCode = 0x010802, Driver = "vfio-pci", IommuGroup = 18, TotalVfs = 4, NumVfs = 0, DriversAutoprobe = 1, VfOffset = 1, VfStride = 1, VfDevice = 0x0010 })
            .Add(new FakeDevice(NvidiaPf) { Vendor = 0x10de, Device = 0x2236, ClassCode = 0x030200, Driver = "nvidia", IommuGroup = 20, TotalVfs = 16, NumVfs = 0, VfOffset = 4, VfStride = 1, VfDevice = 0x2236 });
        host.WriteFile("dev/vfio/9", "");
        host.AddProcess(4242, "qemu-system-x86", ["/usr/bin/qemu-system-x86_64", "-name", "guest=one-7,debug-threads=on"], "/dev/vfio/9");
        host.WriteFile("proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neno2\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n");
        host.WriteFile("proc/net/ipv6_route", "");
        host.WriteFile("proc/mounts", "proc /proc proc rw 0 0\ntmpfs /run tmpfs rw 0 0\n");
        host.WriteFile("proc/self/mountinfo", "");
        return host;
    }
}
