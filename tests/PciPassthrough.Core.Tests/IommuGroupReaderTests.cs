using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Iommu;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Core.Tests;

public class IommuGroupReaderTests
{
    private static IommuGroupReader Reader(FakeHost host)
    {
        var root = new HostRoot(host.Root);
        return new IommuGroupReader(root, new PciDeviceReader(root, PciIdDatabaseLocator.Locate(root, null)));
    }

    [Fact]
    public void Every_group_is_listed_in_order()
    {
        using var host = SampleHost.Create();
        Assert.Equal([0, 1, 5, 6, 7, 8, 9, 10, 11], Reader(host).ListNumbers());
    }

    [Fact]
    public void A_multi_function_group_on_host_drivers_is_not_viable_and_names_every_blocker()
    {
        using var host = SampleHost.Create();
        var group = Reader(host).Read(5)!;
        Assert.Equal(["0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3"], group.Devices.Select(d => d.PciAddress));
        Assert.False(group.Viable);
        Assert.Equal(["lpc_ich", "ahci", "i801_smbus"], group.Blockers.Select(d => d.Driver));
        Assert.Null(group.DevicePath);
    }

    [Fact]
    public void A_group_on_vfio_pci_is_viable_and_shows_its_device_node()
    {
        using var host = SampleHost.Create().WithHealthyIntelIommu();
        var uid = File.ReadAllLines("/etc/passwd").Select(l => l.Split(':')).First(f => f[0] == Environment.UserName)[2];
        host.WriteFile("etc/passwd", $"fixture-owner:x:{uid}:{uid}::/:/bin/sh\n");
        var node = host.WriteFile("dev/vfio/9", "");
        File.SetUnixFileMode(node, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
        var group = Reader(host).Read(9)!;
        Assert.True(group.Viable);
        Assert.Empty(group.Blockers);
        Assert.Equal("/dev/vfio/9", group.DevicePath!.Path);
        Assert.Equal("0660", group.DevicePath.Mode);
        Assert.Equal("fixture-owner", group.DevicePath.Owner);
    }

    [Fact]
    public void Bridges_and_devices_without_a_driver_do_not_block_a_group()
    {
        using var host = new FakeHost();
        host.Add(new FakeDevice("0000:00:1c.0") { ClassCode = 0x060400, HeaderType = 1, Driver = "pcieport", IommuGroup = 4 })
            .Add(new FakeDevice("0000:05:00.0") { ClassCode = 0x030000, Driver = "vfio-pci", IommuGroup = 4 })
            .Add(new FakeDevice("0000:05:00.1") { ClassCode = 0x040300, IommuGroup = 4 })
            .Add(new FakeDevice("0000:06:00.0") { ClassCode = 0x030000, Driver = "pci-stub", IommuGroup = 4 });
        var group = Reader(host).Read(4)!;
        Assert.True(group.Viable);
        Assert.Equal(4, group.Devices.Length);

        host.Add(new FakeDevice("0000:05:00.2") { ClassCode = 0x0c0330, Driver = "xhci_hcd", IommuGroup = 4 });
        var blocked = Reader(host).Read(4)!;
        Assert.False(blocked.Viable);
        Assert.Equal("0000:05:00.2", Assert.Single(blocked.Blockers).PciAddress);
    }

    [Fact]
    public void A_group_that_does_not_exist_reads_as_null_and_garbage_names_are_skipped()
    {
        using var host = SampleHost.Create();
        Directory.CreateDirectory(Path.Combine(host.Root, "sys/kernel/iommu_groups/notanumber"));
        Directory.CreateDirectory(Path.Combine(host.Root, "sys/kernel/iommu_groups/12/devices/garbage"));
        var reader = Reader(host);
        Assert.Null(reader.Read(99));
        Assert.Contains(12, reader.ListNumbers());
        Assert.Empty(reader.Read(12)!.Devices);
        Assert.DoesNotContain(-1, reader.ListNumbers());
    }

    [Fact]
    public void The_groups_users_are_its_devices_users()
    {
        using var host = SampleHost.Create();
        host.WriteFile("dev/vfio/9", "");
        host.AddProcess(4242, "qemu-kvm-one", ["qemu", "-name", "guest=one-7"], "/dev/vfio/9");
        var group = Reader(host).Read(9)!;
        Assert.Equal(7, Assert.Single(group.InUse).VmId);
    }
}
