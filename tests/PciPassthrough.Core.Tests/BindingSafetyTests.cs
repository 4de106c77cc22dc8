using PciPassthrough.Binding;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Core.Tests;

public class BindingSafetyTests
{
    private static (VfioBinder Binder, PciDeviceReader Devices) Open(FakeHost host)
    {
        var root = new HostRoot(host.Root);
        var devices = new PciDeviceReader(root, PciIdDatabaseLocator.Locate(root, null));
        return (new VfioBinder(root, new FakeKernel(host), devices, BinderSettings.For(root, CancellationToken.None)), devices);
    }

    [Theory]
    [InlineData("0000:00:01.0", ErrorIds.NotAnEndpoint)]
    [InlineData("0000:00:00.0", ErrorIds.NotAnEndpoint)]
    [InlineData("0000:02:00.0", ErrorIds.CarriesDefaultRoute)]
    [InlineData("0000:00:1f.2", ErrorIds.HoldsMountedStorage)]
    [InlineData("0001:00:00.0", ErrorIds.HoldsMountedStorage)]
    [InlineData("0000:03:00.0", ErrorIds.BootVga)]
    [InlineData("0000:04:00.0", ErrorIds.NoIommuGroup)]
    [InlineData("0000:00:1f.3", ErrorIds.GroupNotIsolated)]
    public void Unsafe_devices_are_refused_with_their_own_error_and_force_lets_them_through(string address, string errorId)
    {
        using var host = ReadinessHost.Create();
        var (binder, devices) = Open(host);
        var device = devices.Read(PciAddress.Parse(address))!;
        var e = Assert.Throws<PciPassthroughException>(() => binder.PlanBind(device, includeGroup: false, force: false));
        Assert.Equal(errorId, e.ErrorId);
        Assert.Equal(address, e.Target);
        Assert.False(string.IsNullOrEmpty(e.RecommendedAction));
        Assert.Contains(address, binder.PlanBind(device, includeGroup: false, force: true).Select(d => d.PciAddress));
    }

    [Fact]
    public void A_group_left_incomplete_is_refused_naming_the_peers_and_include_group_takes_them_all()
    {
        using var host = new FakeHost().WithHealthyIntelIommu();
        host.Add(new FakeDevice("0000:05:00.0") { ClassCode = 0x030000, Driver = "nouveau", IommuGroup = 4 })
            .Add(new FakeDevice("0000:05:00.1") { ClassCode = 0x040300, Driver = "snd_hda_intel", IommuGroup = 4 })
            .Add(new FakeDevice("0000:00:1c.0") { ClassCode = 0x060400, HeaderType = 1, Driver = "pcieport", IommuGroup = 4 });
        var (binder, devices) = Open(host);
        var gpu = devices.Read(PciAddress.Parse("0000:05:00.0"))!;
        var e = Assert.Throws<PciPassthroughException>(() => binder.PlanBind(gpu, includeGroup: false, force: false));
        Assert.Equal(ErrorIds.GroupNotIsolated, e.ErrorId);
        Assert.Contains("0000:05:00.1", e.Message);
        Assert.Contains("snd_hda_intel", e.Message);
        Assert.DoesNotContain("0000:00:1c.0", e.Message);
        Assert.Equal(["0000:05:00.0", "0000:05:00.1"], binder.PlanBind(gpu, includeGroup: true, force: false).Select(d => d.PciAddress));
    }

    [Fact]
    public void A_group_peer_the_host_needs_refuses_the_whole_group()
    {
        using var host = ReadinessHost.Create();
        var (binder, devices) = Open(host);
        var smbus = devices.Read(PciAddress.Parse("0000:00:1f.3"))!;
        var e = Assert.Throws<PciPassthroughException>(() => binder.PlanBind(smbus, includeGroup: true, force: false));
        Assert.Equal(ErrorIds.NotAnEndpoint, e.ErrorId); // the ISA bridge at 00:1f.0 comes first
        Assert.Equal("0000:00:1f.0", e.Target);
    }

    [Fact]
    public void A_device_whose_group_a_guest_holds_is_refused_for_bind_and_unbind()
    {
        using var host = ReadinessHost.Create();
        host.WriteFile("dev/vfio/6", "");
        host.AddProcess(900, "qemu-kvm-one", ["qemu", "-name", "guest=one-3"], "/dev/vfio/6");
        var (binder, devices) = Open(host);
        var gpu = devices.Read(PciAddress.Parse("0000:01:00.0"))!;
        var e = Assert.Throws<PciPassthroughException>(() => binder.PlanBind(gpu, includeGroup: false, force: false));
        Assert.Equal(ErrorIds.InUse, e.ErrorId);
        Assert.Contains("one-3", e.Message);
        Assert.Equal(ErrorIds.InUse, Assert.Throws<PciPassthroughException>(() => VfioBinder.PlanUnbind(gpu, force: false)).ErrorId);
        VfioBinder.PlanUnbind(gpu, force: true);
    }

    [Fact]
    public void With_a_zfs_pool_mounted_storage_controllers_are_refused()
    {
        using var host = ReadinessHost.Create();
        host.WriteFile("proc/mounts", "rpool/ROOT/debian / zfs rw 0 0\n");
        var (binder, devices) = Open(host);
        var e = Assert.Throws<PciPassthroughException>(() => binder.PlanBind(devices.Read(PciAddress.Parse("0001:00:00.0"))!, false, false));
        Assert.Equal(ErrorIds.HoldsMountedStorage, e.ErrorId);
        Assert.Contains("zfs", e.Message);
    }

    [Fact]
    public void A_physical_function_with_vfs_enabled_is_refused_its_vfs_would_vanish()
    {
        using var host = ReadinessHost.Create();
        host.WriteFile("proc/net/route", "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n");
        host.WriteFile("proc/net/ipv6_route", "");
        var (binder, devices) = Open(host);
        var pf = devices.Read(PciAddress.Parse("0000:02:00.0"))!;
        var e = Assert.Throws<PciPassthroughException>(() => binder.PlanBind(pf, false, false));
        Assert.Equal(ErrorIds.HasActiveVfs, e.ErrorId);
        Assert.Contains("0000:02:10.0, 0000:02:10.4", e.Message);
    }

    [Fact]
    public void With_the_iommu_off_nothing_may_be_bound()
    {
        using var host = ReadinessHost.Create();
        Directory.Delete(Path.Combine(host.Root, "sys/class/iommu/dmar0"));
        var (binder, devices) = Open(host);
        var e = Assert.Throws<PciPassthroughException>(() => binder.PlanBind(devices.Read(PciAddress.Parse("0000:01:00.0"))!, false, false));
        Assert.Equal(ErrorIds.IommuNotActive, e.ErrorId);
    }
}
