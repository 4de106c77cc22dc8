using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.OpenNebula.Probe;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Core.Tests;

public class PciDeviceReaderTests
{
    [Fact]
    public void Every_device_is_read_in_lspci_order()
    {
        using var host = SampleHost.Create();
        var (devices, reader) = ReaderFixture.ReadAll(host);
        Assert.Equal(
            ["0000:00:00.0", "0000:00:01.0", "0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3", "0000:01:00.0", "0000:02:00.0", "0000:02:10.0", "0000:02:10.4", "0000:03:00.0", "0000:04:00.0", "0001:00:00.0"],
            devices.Select(d => d.PciAddress));
        Assert.Empty(reader.Diagnostics);
    }

    [Fact]
    public void A_gpu_reads_every_property_exactly()
    {
        using var host = SampleHost.Create();
        var d = ReaderFixture.ReadAll(host).Devices.Single("0000:01:00.0");
        Assert.Equal("01:00.0", d.ShortAddress);
        Assert.Equal(("0000", "01", "00", "0"), (d.Domain, d.Bus, d.Slot, d.Function));
        Assert.Equal(("10de", "1eb8", "10de", "12a2", "a1"), (d.VendorId, d.DeviceId, d.SubsystemVendorId, d.SubsystemId, d.Revision));
        Assert.Equal(("030200", "0302", "00", "10de:1eb8:0302"), (d.ClassCode, d.Class, d.ProgIf, d.Type));
        Assert.Equal("NVIDIA Corporation", d.VendorName);
        Assert.Equal("TU104GL [Tesla T4]", d.DeviceName);
        Assert.Equal("3D controller", d.ClassName);
        Assert.Equal("NVIDIA Corporation", d.SubsystemVendorName);
        Assert.Equal("TU104GL [Tesla T4]", d.SubsystemName);
        Assert.Equal("nvidia", d.Driver);
        Assert.Null(d.DriverOverride);
        Assert.Equal(6, d.IommuGroup);
        Assert.Equal(0, d.NumaNode);
        Assert.Equal("0-7,16-23", d.LocalCpuList);
        Assert.Equal((0, false, true), (d.HeaderType, d.IsBridge, d.IsEndpoint));
        Assert.Equal(SriovRole.None, d.SriovRole);
        Assert.Null(d.TotalVfs);
        Assert.Null(d.NumVfs);
        Assert.Empty(d.VirtualFunctions);
        Assert.Null(d.PhysicalFunction);
        Assert.Empty(d.NetworkInterfaces);
        Assert.False(d.BootVga);
        Assert.Empty(d.InUse);
        Assert.Equal(host.Root, d.Root);
    }

    [Fact]
    public void An_sriov_pf_lists_its_vfs_and_each_vf_its_pf()
    {
        using var host = SampleHost.Create();
        var devices = ReaderFixture.ReadAll(host).Devices;
        var pf = devices.Single("0000:02:00.0");
        Assert.Equal(SriovRole.PF, pf.SriovRole);
        Assert.Equal((7, 2), (pf.TotalVfs, pf.NumVfs));
        Assert.Equal(["0000:02:10.0", "0000:02:10.4"], pf.VirtualFunctions);
        Assert.Equal(["enp2s0f0"], pf.NetworkInterfaces);
        Assert.Equal(1, pf.NumaNode);
        Assert.Equal("Ethernet Server Adapter I350-T4", pf.SubsystemName);

        var vf = devices.Single("0000:02:10.4");
        Assert.Equal(SriovRole.VF, vf.SriovRole);
        Assert.Equal("0000:02:00.0", vf.PhysicalFunction);
        Assert.Null(vf.TotalVfs);
        Assert.Equal("vfio-pci", vf.Driver);
        Assert.Equal("vfio-pci", vf.DriverOverride);
        Assert.Equal("I350 Ethernet Controller Virtual Function", vf.DeviceName);
        Assert.Equal(["enp2s16"], devices.Single("0000:02:10.0").NetworkInterfaces);
    }

    [Fact]
    public void Bridges_are_told_apart_by_header_type()
    {
        using var host = SampleHost.Create();
        var devices = ReaderFixture.ReadAll(host).Devices;
        var pciBridge = devices.Single("0000:00:01.0");
        Assert.Equal((1, true, false), (pciBridge.HeaderType, pciBridge.IsBridge, pciBridge.IsEndpoint));
        Assert.Equal("PCI bridge", pciBridge.ClassName);
        Assert.Null(pciBridge.SubsystemName);
        var hostBridge = devices.Single("0000:00:00.0");
        Assert.Equal((0, false, true), (hostBridge.HeaderType, hostBridge.IsBridge, hostBridge.IsEndpoint));
        Assert.Equal("Host bridge", hostBridge.ClassName);
        Assert.Equal("QEMU Virtual Machine", hostBridge.SubsystemName);
        Assert.Equal("Red Hat, Inc.", hostBridge.SubsystemVendorName);
    }

    [Fact]
    public void A_multi_function_group_shares_its_number_and_the_header_flag_is_masked()
    {
        using var host = SampleHost.Create();
        var devices = ReaderFixture.ReadAll(host).Devices;
        Assert.All(new[] { "0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3" }, a => Assert.Equal(5, devices.Single(a).IommuGroup));
        Assert.Equal(0, devices.Single("0000:00:1f.0").HeaderType);
        Assert.Equal("SATA controller", devices.Single("0000:00:1f.2").ClassName);
        Assert.Equal("01", devices.Single("0000:00:1f.2").ProgIf);
    }

    [Fact]
    public void The_boot_vga_an_unknown_id_and_a_second_domain_read_as_lspci_shows_them()
    {
        using var host = SampleHost.Create();
        var devices = ReaderFixture.ReadAll(host).Devices;
        Assert.True(devices.Single("0000:03:00.0").BootVga);

        var unknown = devices.Single("0000:04:00.0");
        Assert.Equal(("Vendor [abab]", "Device [7777]", "Unassigned class [ff00]"), (unknown.VendorName, unknown.DeviceName, unknown.ClassName));
        Assert.Null(unknown.Driver);
        Assert.Null(unknown.IommuGroup);
        Assert.Null(unknown.NumaNode);
        Assert.Null(unknown.LocalCpuList);
        Assert.Equal(("Unknown vendor [cdcd]", "Device [0001]"), (unknown.SubsystemVendorName, unknown.SubsystemName));
        Assert.Empty(unknown.InUse);

        var nvme = devices.Single("0001:00:00.0");
        Assert.Equal(("0001", "00", "00:00.0"), (nvme.Domain, nvme.Bus, nvme.ShortAddress));
        Assert.Equal("Non-Volatile memory controller", nvme.ClassName);
        Assert.Equal("Device [a801]", nvme.SubsystemName);
    }

    [Fact]
    public void Garbage_in_files_leaves_properties_null_and_says_so()
    {
        using var host = new FakeHost();
        // No uevent: the attributes are the only copy of the ids, as in a captured tree.
        host.Add(new FakeDevice("0000:05:00.0") { Driver = "e1000", IommuGroup = 3, Uevent = false });
        var dir = host.DeviceDir("0000:05:00.0");
        File.WriteAllText(Path.Combine(dir, "vendor"), "zzzz\n");
        File.WriteAllBytes(Path.Combine(dir, "class"), [0xff, 0x00, 0x13, 0x37]);
        File.WriteAllText(Path.Combine(dir, "numa_node"), "many\n");
        File.WriteAllBytes(Path.Combine(dir, "local_cpulist"), [0x01, 0x02]);
        File.WriteAllText(Path.Combine(dir, "sriov_numvfs"), "-");
        File.WriteAllBytes(Path.Combine(dir, "config"), [0x86, 0x80]);

        var (devices, reader) = ReaderFixture.ReadAll(host);
        var d = Assert.Single(devices);
        Assert.Null(d.VendorId);
        Assert.Null(d.VendorName);
        Assert.Null(d.Type);
        Assert.Equal("100e", d.DeviceId);
        Assert.Null(d.ClassCode);
        Assert.Null(d.ClassName);
        Assert.Null(d.NumaNode);
        Assert.Null(d.LocalCpuList);
        Assert.Null(d.HeaderType);
        Assert.False(d.IsBridge);
        Assert.False(d.IsEndpoint);
        Assert.Equal(SriovRole.PF, d.SriovRole);
        Assert.Null(d.NumVfs);
        Assert.Equal("e1000", d.Driver);
        Assert.Contains(reader.Diagnostics, m => m.Contains("0000:05:00.0") && m.Contains("vendor"));
        Assert.Contains(reader.Diagnostics, m => m.Contains("class"));
    }

    [Fact]
    public void Missing_optional_files_and_dangling_links_do_not_break_the_device()
    {
        using var host = new FakeHost();
        host.Add(new FakeDevice("0000:05:00.0") { Driver = "e1000" });
        var dir = host.DeviceDir("0000:05:00.0");
        foreach (var f in new[] { "numa_node", "local_cpulist", "driver_override", "revision", "config" })
        {
            File.Delete(Path.Combine(dir, f));
        }

        File.CreateSymbolicLink(Path.Combine(dir, "iommu_group"), "../../../kernel/iommu_groups/77");
        File.CreateSymbolicLink(Path.Combine(dir, "physfn"), "../0000:09:00.0");
        Directory.Delete(Path.Combine(host.Root, "sys/bus/pci/drivers/e1000"), recursive: true);

        var d = Assert.Single(ReaderFixture.ReadAll(host).Devices);
        Assert.Equal("e1000", d.Driver);
        Assert.Equal(77, d.IommuGroup);
        Assert.Equal(SriovRole.VF, d.SriovRole);
        Assert.Equal("0000:09:00.0", d.PhysicalFunction);
        Assert.Null(d.Revision);
        Assert.Null(d.NumaNode);
        Assert.Null(d.DriverOverride);
        Assert.Null(d.HeaderType);
    }

    [Fact]
    public void A_directory_where_a_file_belongs_reads_as_unreadable()
    {
        using var host = new FakeHost();
        host.Add(new FakeDevice("0000:05:00.0") { Uevent = false });
        var vendor = Path.Combine(host.DeviceDir("0000:05:00.0"), "vendor");
        File.Delete(vendor);
        Directory.CreateDirectory(vendor);
        var (devices, reader) = ReaderFixture.ReadAll(host);
        Assert.Null(Assert.Single(devices).VendorId);
        Assert.Contains(reader.Diagnostics, m => m.Contains("cannot read 'vendor'"));
    }

    [Fact]
    public void A_device_that_vanishes_mid_scan_is_skipped_and_reported()
    {
        using var host = new FakeHost();
        host.Add(new FakeDevice("0000:05:00.0")).Add(new FakeDevice("0000:06:00.0"));
        var root = new HostFs.HostRoot(host.Root);
        var reader = new Sysfs.PciDeviceReader(root, Ids.PciIdDatabase.Empty);
        var seen = new List<string>();
        foreach (var d in reader.ReadAll((done, _) =>
        {
            if (done == 1)
            {
                Directory.Delete(Path.Combine(host.Root, "sys/devices/pci0000:06/0000:06:00.0"), recursive: true);
            }
        }))
        {
            seen.Add(d.PciAddress);
        }

        Assert.Equal(["0000:05:00.0"], seen);
        Assert.Contains(reader.Diagnostics, m => m.StartsWith("0000:06:00.0") && m.Contains("gone"));
    }

    [Fact]
    public void Entries_that_are_not_device_addresses_are_ignored_and_reported()
    {
        using var host = new FakeHost();
        host.Add(new FakeDevice("0000:05:00.0"));
        Directory.CreateDirectory(Path.Combine(host.Root, "sys/bus/pci/devices/not-a-device"));
        File.CreateSymbolicLink(Path.Combine(host.Root, "sys/bus/pci/devices/0000:07:00.0"), "../../../devices/nowhere");
        var (devices, reader) = ReaderFixture.ReadAll(host);
        Assert.Equal(["0000:05:00.0"], devices.Select(d => d.PciAddress));
        Assert.Contains(reader.Diagnostics, m => m.Contains("not-a-device"));
        Assert.Contains(reader.Diagnostics, m => m.StartsWith("0000:07:00.0"));
    }

    [Fact]
    public void A_root_without_a_pci_bus_is_the_stable_error_and_a_missing_root_another()
    {
        using var host = new FakeHost();
        Directory.Delete(Path.Combine(host.Root, "sys"), recursive: true);
        var reader = new Sysfs.PciDeviceReader(new HostFs.HostRoot(host.Root), Ids.PciIdDatabase.Empty);
        Assert.Equal(ErrorIds.SysfsUnreadable, Assert.Throws<PciPassthroughException>(() => reader.ReadAll().ToList()).ErrorId);
        Assert.Equal(ErrorIds.RootNotFound, Assert.Throws<PciPassthroughException>(() => new HostFs.HostRoot(host.Root + "/missing")).ErrorId);
    }

    [Fact]
    public void A_virtio_nic_shows_the_interface_of_its_virtio_child()
    {
        using var host = new FakeHost();
        host.Add(new FakeDevice("0000:00:03.0") { Vendor = 0x1af4, Device = 0x1041, Driver = "virtio-pci" });
        Directory.CreateDirectory(Path.Combine(host.DeviceDir("0000:00:03.0"), "virtio2/net/ens3"));
        Assert.Equal(["ens3"], Assert.Single(ReaderFixture.ReadAll(host).Devices).NetworkInterfaces);
    }

    [Fact]
    public void Processes_holding_the_group_open_make_the_device_in_use_with_the_opennebula_vm_id()
    {
        using var host = SampleHost.Create();
        host.WriteFile("dev/vfio/vfio", "");
        host.WriteFile("dev/vfio/9", "");
        host.AddProcess(4242, "qemu-kvm-one", ["/usr/bin/qemu-kvm-one", "-name", "guest=one-42,debug-threads=on", "-m", "4096"], "/dev/vfio/9");
        host.AddProcess(77, "vfio-test", ["./vfio-test"], "/dev/vfio/9");
        host.AddProcess(78, "bash", ["bash"], "/dev/null");

        var devices = ReaderFixture.ReadAll(host).Devices;
        var vf = devices.Single("0000:02:10.4");
        Assert.Equal([77, 4242], vf.InUse.Select(u => u.ProcessId));
        Assert.Equal([null, 42], vf.InUse.Select(u => u.VmId));
        Assert.Equal("qemu-kvm-one", vf.InUse[1].ProcessName);
        Assert.All(devices.Where(d => d.PciAddress != "0000:02:10.4"), d => Assert.Empty(d.InUse));
    }

    [Fact]
    public void A_minimal_read_skips_what_it_is_told_to_and_reads_the_rest_as_a_full_read()
    {
        using var host = SampleHost.Create();
        host.WriteFile("dev/vfio/vfio", "");
        host.WriteFile("dev/vfio/9", "");
        host.AddProcess(4242, "qemu-kvm-one", ["/usr/bin/qemu-kvm-one"], "/dev/vfio/9");
        var root = new HostRoot(host.Root);
        var names = PciIdDatabaseLocator.Locate(root, null);
        var full = new PciDeviceReader(root, names).ReadAll().ToList();
        var minimal = new PciDeviceReader(root, names, PciProbe.ReadOptions).ReadAll().ToList();

        Assert.Equal(full.Select(d => d.PciAddress), minimal.Select(d => d.PciAddress));
        Assert.Contains(full, d => d.InUse.Length > 0);
        Assert.Contains(full, d => d.VirtualFunctions.Length > 0);
        foreach (var (f, m) in full.Zip(minimal))
        {
            Assert.Equal(
                (f.ShortAddress, f.Domain, f.Bus, f.Slot, f.Function, f.VendorId, f.DeviceId, f.ClassCode, f.Class, f.ProgIf, f.Type),
                (m.ShortAddress, m.Domain, m.Bus, m.Slot, m.Function, m.VendorId, m.DeviceId, m.ClassCode, m.Class, m.ProgIf, m.Type));
            Assert.Equal((f.VendorName, f.DeviceName, f.ClassName, f.NumaNode), (m.VendorName, m.DeviceName, m.ClassName, m.NumaNode));
            Assert.Equal((f.SriovRole, f.TotalVfs, f.NumVfs, f.PhysicalFunction), (m.SriovRole, m.TotalVfs, m.NumVfs, m.PhysicalFunction));
            Assert.Equal(f.NetworkInterfaces, m.NetworkInterfaces);

            Assert.Equal((null, null, null, null, null), (m.SubsystemVendorId, m.SubsystemId, m.SubsystemVendorName, m.SubsystemName, m.Revision));
            Assert.Equal(((int?)null, false, false), (m.HeaderType, m.IsBridge, m.IsEndpoint));
            Assert.Equal((null, null, (int?)null, null, false), (m.Driver, m.DriverOverride, m.IommuGroup, m.LocalCpuList, m.BootVga));
            Assert.Empty(m.InUse);
            Assert.Empty(m.VirtualFunctions);
            Assert.Null(f.Probe);
            Assert.NotNull(m.Probe);
        }
    }

    [Fact]
    public void Each_read_option_turns_off_only_its_own_properties()
    {
        using var host = SampleHost.Create();
        var root = new HostRoot(host.Root);
        var names = PciIdDatabaseLocator.Locate(root, null);
        PciDevice Read(PciDeviceReadOptions o) => new PciDeviceReader(root, names, o).ReadAll().Single(d => d.PciAddress == "0000:01:00.0");

        var all = Read(PciDeviceReadOptions.All);
        Assert.Null(Read(new PciDeviceReadOptions { Driver = false }).Driver);
        Assert.Equal(all.IommuGroup, Read(new PciDeviceReadOptions { Driver = false }).IommuGroup);
        Assert.Null(Read(new PciDeviceReadOptions { IommuGroup = false }).IommuGroup);
        Assert.Equal(all.Driver, Read(new PciDeviceReadOptions { IommuGroup = false }).Driver);
        Assert.Null(Read(new PciDeviceReadOptions { LocalCpuList = false }).LocalCpuList);
        Assert.Null(Read(new PciDeviceReadOptions { Subsystem = false }).SubsystemName);
        Assert.Equal(all.Revision, Read(new PciDeviceReadOptions { Subsystem = false }).Revision);
        Assert.Null(Read(new PciDeviceReadOptions { HeaderType = false }).HeaderType);
        Assert.Equal(all.SubsystemName, Read(new PciDeviceReadOptions { HeaderType = false }).SubsystemName);

        var pf = new PciDeviceReader(root, names, new PciDeviceReadOptions { VirtualFunctions = false }).ReadAll().Single(d => d.SriovRole == SriovRole.PF);
        Assert.Empty(pf.VirtualFunctions);
        Assert.NotNull(pf.NumVfs);
    }
    [Fact]
    public void A_net_entry_that_is_no_folder_gives_no_interfaces_and_no_virtio_search()
    {
        using var host = new FakeHost();
        host.Add(new FakeDevice("0000:00:03.0") { Vendor = 0x1af4, Device = 0x1041, Driver = "virtio-pci" });
        host.Add(new FakeDevice("0000:00:04.0") { Vendor = 0x8086, Device = 0x1521, Driver = "igb" });
        host.Add(new FakeDevice("0000:00:05.0") { Vendor = 0x8086, Device = 0x1521, Driver = "igb" });
        Directory.CreateDirectory(Path.Combine(host.DeviceDir("0000:00:03.0"), "virtio2/net/ens3"));
        host.WriteFile("sys/bus/pci/devices/0000:00:03.0/net", "not a folder");
        host.Link("sys/bus/pci/devices/0000:00:04.0/net", "nowhere");
        Directory.CreateDirectory(Path.Combine(host.DeviceDir("0000:00:05.0"), "net/eno2"));
        Directory.CreateDirectory(Path.Combine(host.DeviceDir("0000:00:05.0"), "net/eno1"));

        var devices = ReaderFixture.ReadAll(host).Devices;
        Assert.Empty(devices.Single("0000:00:03.0").NetworkInterfaces);
        Assert.Empty(devices.Single("0000:00:04.0").NetworkInterfaces);
        Assert.Equal(["eno1", "eno2"], devices.Single("0000:00:05.0").NetworkInterfaces);
    }
    [Fact]
    public void An_entry_that_is_no_address_is_ignored_with_a_diagnostic_and_the_rest_are_sorted()
    {
        using var host = new FakeHost();
        host.Add(new FakeDevice("0000:00:1f.0") { Vendor = 0x8086, Device = 0x1521 });
        host.Add(new FakeDevice("0000:00:02.0") { Vendor = 0x8086, Device = 0x1521 });
        host.WriteFile("sys/bus/pci/devices/junk", "");

        var (devices, reader) = ReaderFixture.ReadAll(host);
        Assert.Equal(["0000:00:02.0", "0000:00:1f.0"], devices.Select(d => d.PciAddress));
        Assert.Equal([$"Ignored '{host.Root}/sys/bus/pci/devices/junk': not a PCI device name."], reader.Diagnostics);
    }
}
