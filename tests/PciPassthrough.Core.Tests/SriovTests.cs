using PciPassthrough.Binding;
using PciPassthrough.Host;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Sriov;
using static PciPassthrough.TestSupport.SriovHost;

namespace PciPassthrough.Core.Tests;

/// <summary>Get-PciVirtualFunction's reader and Set-PciVirtualFunctionCount's plan and protocol, on SriovHost with a kernel that answers as iov.c does.</summary>
public sealed class SriovTests : IDisposable
{
    private readonly FakeHost _host = SriovHost.Create();
    private readonly SriovKernel _kernel;
    private readonly HostRoot _root;
    private readonly List<string> _log = [];

    public SriovTests()
    {
        _kernel = new SriovKernel(_host);
        _root = new HostRoot(_host.Root);
    }

    public void Dispose() => _host.Dispose();

    private HostSession Session() => new(_root, new Sysfs.PciDeviceReader(_root, PciIdDatabase.Empty));

    private VirtualFunctionCountChanger Changer(HostSession session, TimeSpan? timeout = null) =>
        new(session, _kernel, new VirtualFunctionCountSettings(timeout ?? TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10), false, CancellationToken.None));

    private VirtualFunctionChange Change(string pf, int count, bool force = false, bool? autoprobe = null, bool bind = false)
    {
        var session = Session();
        var request = new VirtualFunctionCountRequest(count, false, autoprobe, force);
        var changer = Changer(session);
        var plan = changer.Plan(session.Devices.Require(pf), request);
        var binder = bind ? new VfioBinder(session, _kernel, new BinderSettings(TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200), false, CancellationToken.None)) : null;
        return changer.Execute(plan, request, _log.Add, binder);
    }

    private string Refusal(string pf, int count, bool force = false) =>
        Assert.Throws<PciPassthroughException>(() => Change(pf, count, force)).ErrorId;

    [Fact]
    public void A_pf_reports_autoprobe_offset_stride_and_vf_device_and_other_devices_null()
    {
        var devices = Session().Devices;
        var igb = devices.Require(IgbPf);
        Assert.Equal((true, 128, 4, "1520"), (igb.DriversAutoprobe, igb.VfOffset, igb.VfStride, igb.VfDeviceId));
        var nvme = devices.Require(NvmePf);
        Assert.Equal((true, 1, 1, "0010"), (nvme.DriversAutoprobe, nvme.VfOffset, nvme.VfStride, nvme.VfDeviceId));
        Assert.Null(devices.Require(NvidiaPf).DriversAutoprobe); // the file is absent
        foreach (var other in new[] { devices.Require(IgbVf0), devices.Require(Plain) })
        {
            Assert.Equal((null, null, null, null), (other.DriversAutoprobe, other.VfOffset, other.VfStride, other.VfDeviceId));
        }
    }

    [Fact]
    public void Every_vf_is_listed_with_its_pf_index_driver_group_users_and_interfaces()
    {
        var vfs = new VirtualFunctionReader(Session()).ReadAll().ToList();
        Assert.Equal([IgbVf0, IgbVf1], vfs.Select(v => v.PciAddress));
        var (vf0, vf1) = (vfs[0], vfs[1]);
        Assert.Equal((IgbPf, 0, "8086", "1520", "igbvf", (string?)null, 8, "enp2s16", "enp2s0f0"), (vf0.PhysicalFunction, vf0.Index, vf0.VendorId, vf0.DeviceId, vf0.Driver, vf0.DriverOverride, vf0.IommuGroup, vf0.NetworkInterface, vf0.PhysicalFunctionInterface));
        Assert.Empty(vf0.InUse);
        Assert.Equal((1, "vfio-pci", "vfio-pci", 9, (string?)null), (vf1.Index, vf1.Driver, vf1.DriverOverride, vf1.IommuGroup, vf1.NetworkInterface));
        Assert.Equal(7, Assert.Single(vf1.InUse).VmId);
        Assert.Null(vf1.MacAddress); // the network configuration is read only when asked for
        Assert.Equal(_host.Root, vf1.Root);
    }

    [Fact]
    public void An_address_names_all_vfs_of_a_pf_or_one_vf_and_anything_else_is_refused()
    {
        var reader = new VirtualFunctionReader(Session());
        Assert.Equal([IgbVf0, IgbVf1], reader.Resolve(IgbPf).Select(v => v.PciAddress));
        Assert.Equal(1, Assert.Single(reader.Resolve(IgbVf1)).Index);
        Assert.Empty(reader.Resolve(NvmePf));
        Assert.Equal(ErrorIds.NotAnSriovPhysicalFunction, Assert.Throws<PciPassthroughException>(() => reader.Resolve(Plain)).ErrorId);
        var vfAsPf = Assert.Throws<PciPassthroughException>(() => reader.Resolve(IgbVf0, physicalFunctionOnly: true));
        Assert.Equal(ErrorIds.NotAnSriovPhysicalFunction, vfAsPf.ErrorId);
        Assert.Contains("a virtual function of 0000:02:00.0", vfAsPf.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorIds.DeviceNotFound, Assert.Throws<PciPassthroughException>(() => reader.Resolve("0000:77:00.0")).ErrorId);
    }

    [Fact]
    public void The_pf_interface_of_a_switchdev_pf_is_its_port_not_a_representor()
    {
        using var host = VgpuHost.Create();
        var root = new HostRoot(host.Root);
        var session = new HostSession(root, new Sysfs.PciDeviceReader(root, PciIdDatabase.Empty));
        Assert.Equal("enp67s0f0np0", new VirtualFunctionReader(session).PhysicalFunctionInterface(session.Devices.Require("0000:43:00.0")));
    }

    [Fact]
    public void The_plan_lists_the_exact_writes_and_the_vfs_that_appear_and_disappear()
    {
        var session = Session();
        var changer = Changer(session);
        var up = changer.Plan(session.Devices.Require(NvmePf), new(2, false, null, false));
        Assert.Equal([new SysfsWrite($"/sys/bus/pci/devices/{NvmePf}/sriov_drivers_autoprobe", "0"), new SysfsWrite($"/sys/bus/pci/devices/{NvmePf}/sriov_numvfs", "2")], up.Writes);
        Assert.Equal(["0000:08:00.1", "0000:08:00.2"], up.Appearing);
        Assert.Equal(
            "PF 0000:08:00.0 (pci-pf-stub): 0 -> 2 VFs: write '0' to /sys/bus/pci/devices/0000:08:00.0/sriov_drivers_autoprobe; write '2' to /sys/bus/pci/devices/0000:08:00.0/sriov_numvfs; VFs 0000:08:00.1, 0000:08:00.2 would be created",
            up.Describe());

        File.Delete(Path.Combine(_host.Root, "proc/4242/fd/17")); // the guest stopped
        var later = Session(); // a new call: the guest's exit is seen
        var more = Changer(later).Plan(later.Devices.Require(IgbPf), new(3, false, true, Force: true));
        Assert.Equal(["0", "3"], more.Writes.Select(w => w.Value)); // autoprobe already 1: not written
        Assert.Equal([IgbVf0, IgbVf1], more.Disappearing);
        Assert.Equal(["0000:02:10.0", "0000:02:10.4", "0000:02:11.0"], more.Appearing);
        Assert.Contains("VFs 0000:02:10.0, 0000:02:10.4 would be removed; VFs 0000:02:10.0, 0000:02:10.4, 0000:02:11.0 would be created", more.Describe(), StringComparison.Ordinal);
        Assert.Empty(_kernel.Writes);
    }

    [Fact]
    public void Vfs_are_created_without_host_drivers_each_in_its_own_group_and_a_new_count_goes_through_zero()
    {
        var two = Change(NvmePf, 2);
        Assert.Equal((0, 2, false), (two.PreviousNumVfs, two.NumVfs, two.DriversAutoprobe));
        Assert.Equal(["0000:08:00.1", "0000:08:00.2"], two.VirtualFunctions);
        var vfs = new VirtualFunctionReader(Session()).Resolve(NvmePf);
        Assert.All(vfs, v => Assert.Null(v.Driver));
        Assert.Equal(2, vfs.Select(v => v.IommuGroup).Distinct().Count());
        Assert.Equal("0010", vfs[0].DeviceId);

        _kernel.Writes.Clear();
        var three = Change(NvmePf, 3);
        Assert.Equal(["0", "3"], _kernel.Writes.Select(w => w.Value));
        Assert.Equal((2, 3), (three.PreviousNumVfs, three.NumVfs));

        _kernel.Writes.Clear();
        var same = Change(NvmePf, 3);
        Assert.Empty(_kernel.Writes);
        Assert.Equal(3, same.NumVfs);

        var none = Change(NvmePf, 0);
        Assert.Equal((0, 0), (none.NumVfs, none.VirtualFunctions.Length));
        Assert.False(Directory.Exists(_host.DeviceDir("0000:08:00.1")));
    }

    [Fact]
    public void Autoprobe_on_lets_host_drivers_take_the_new_vfs()
    {
        var change = Change(NvmePf, 1, autoprobe: true);
        Assert.True(change.DriversAutoprobe);
        Assert.Equal("igbvf", Session().Devices.Require(change.VirtualFunctions[0]).Driver);
        Assert.DoesNotContain(_kernel.Writes, w => w.Path.EndsWith("autoprobe", StringComparison.Ordinal)); // it was 1 already
    }

    [Fact]
    public void Bind_to_vfio_moves_the_new_vfs_with_the_binding_protocol()
    {
        var change = Change(NvmePf, 2, bind: true);
        Assert.Equal(["0000:08:00.1", "0000:08:00.2"], change.BoundToVfio);
        var devices = Session().Devices;
        Assert.All(change.VirtualFunctions, a => Assert.Equal("vfio-pci", devices.Require(a).Driver));
        Assert.Contains(_kernel.Writes, w => w.Path == "/sys/bus/pci/devices/0000:08:00.1/driver_override" && w.Value.Trim() == "vfio-pci");
    }

    [Fact]
    public void Each_refusal_has_its_id_and_writes_nothing()
    {
        Assert.Equal(ErrorIds.NotAnSriovPhysicalFunction, Refusal(Plain, 1));
        Assert.Equal(ErrorIds.NotAnSriovPhysicalFunction, Refusal(IgbVf0, 1));
        Assert.Equal(ErrorIds.VirtualFunctionCountOutOfRange, Refusal(NvmePf, 5));
        Assert.Equal(ErrorIds.NvidiaUseSriovManage, Refusal(NvidiaPf, 2, force: true));
        Assert.Equal(ErrorIds.PhysicalFunctionHasNoDriver, Refusal(NoDriverPf, 2, force: true));
        Assert.Equal(ErrorIds.PhysicalFunctionOnVfio, Refusal(VfioPf, 2, force: true));
        Assert.Equal(ErrorIds.VirtualFunctionInUse, Refusal(IgbPf, 0, force: true));
        Assert.Equal(ErrorIds.PhysicalFunctionIsHostCritical, Refusal(RoutePf, 2));
        Assert.Empty(_kernel.Writes);

        File.Delete(Path.Combine(_host.Root, "proc/4242/fd/17"));
        Assert.Equal(ErrorIds.VirtualFunctionsBoundToVfio, Refusal(IgbPf, 0));
        Assert.Empty(_kernel.Writes);
        Assert.Equal(0, Change(IgbPf, 0, force: true).NumVfs);
        Assert.Equal(2, Change(RoutePf, 2, force: true).NumVfs);
    }

    [Fact]
    public void A_pf_on_vfio_pci_loaded_with_enable_sriov_passes_the_plan()
    {
        _host.WriteFile("sys/module/vfio_pci/parameters/enable_sriov", "Y\n");
        var session = Session();
        Assert.Equal(2, Changer(session).Plan(session.Devices.Require(VfioPf), new(2, false, null, false)).Count);
    }

    [Fact]
    public void The_guest_check_is_made_again_under_the_lock()
    {
        // Planned while no guest held the VFs; a guest starts before the writes.
        File.Delete(Path.Combine(_host.Root, "proc/4242/fd/17"));
        var session = Session();
        var request = new VirtualFunctionCountRequest(0, false, null, true);
        var changer = Changer(session);
        var plan = changer.Plan(session.Devices.Require(IgbPf), request);
        File.CreateSymbolicLink(Path.Combine(_host.Root, "proc/4242/fd/17"), "/dev/vfio/9");
        Assert.Equal(ErrorIds.VirtualFunctionInUse, Assert.Throws<PciPassthroughException>(() => changer.Execute(plan, request, _log.Add)).ErrorId);
        Assert.Empty(_kernel.Writes);
    }

    [Theory]
    [InlineData(2, "pci-pf-stub", ErrorIds.PhysicalFunctionHasNoDriver)]
    [InlineData(2, "vfio-pci", ErrorIds.PhysicalFunctionOnVfio)]
    [InlineData(34, "igb", ErrorIds.VirtualFunctionCountOutOfRange)]
    [InlineData(22, "igb", ErrorIds.VirtualFunctionCountOutOfRange)]
    [InlineData(16, "igb", ErrorIds.VirtualFunctionInUse)]
    [InlineData(5, "igb", ErrorIds.SriovWriteFailed)]
    public void The_kernels_answers_map_to_the_ids(int errno, string driver, string id)
    {
        var pf = Session().Devices.Require(IgbPf);
        typeof(PciDevice).GetProperty(nameof(PciDevice.Driver))!.SetValue(pf, driver);
        var e = ErrorCatalog.FromSriovWrite(pf, "/sys/bus/pci/devices/0000:02:00.0/sriov_numvfs", "3", new IOException("kernel says no", errno));
        Assert.Equal(id, e.ErrorId);
        Assert.Equal(IgbPf, e.Target);
    }

    [Fact]
    public void A_blocked_write_times_out_and_names_who_holds_a_vfio_device_fd()
    {
        // The guest closed its group fd but keeps the VF's device fd: the group scan cannot see it, the write blocks.
        File.Delete(Path.Combine(_host.Root, "proc/4242/fd/17"));
        File.CreateSymbolicLink(Path.Combine(_host.Root, "proc/4242/fd/18"), "anon_inode:[vfio-device]");
        using var hang = new ManualResetEventSlim();
        _kernel.Hang = hang;
        try
        {
            var session = Session();
            var request = new VirtualFunctionCountRequest(0, false, null, true);
            var changer = Changer(session, TimeSpan.FromMilliseconds(300));
            var plan = changer.Plan(session.Devices.Require(IgbPf), request);
            var e = Assert.Throws<PciPassthroughException>(() => changer.Execute(plan, request, _log.Add));
            Assert.Equal(ErrorIds.SriovWriteTimeout, e.ErrorId);
            Assert.Contains("a VFIO device fd open in domain one-7 (VM 7, qemu-system-x86[4242], anon_inode:[vfio-device])", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            hang.Set();
        }
    }
}
