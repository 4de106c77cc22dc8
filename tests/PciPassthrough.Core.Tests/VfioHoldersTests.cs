using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Iommu;
using PciPassthrough.Readiness;
using PciPassthrough.Safety;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Core.Tests;

/// <summary>Who holds a device (issue 23): group files, vfio device files, mdev groups, named by domain and VM.</summary>
public class VfioHoldersTests
{
    private const string Nic = "0000:01:00.0";
    private const string Other = "0000:02:00.0";

    private static FakeHost TwoNics()
    {
        var host = new FakeHost();
        host.Add(new FakeDevice(Nic) { Device = 0x10d3, Driver = "vfio-pci", IommuGroup = 12 });
        host.Add(new FakeDevice(Other) { Device = 0x10d3, Driver = "vfio-pci", IommuGroup = 13 });
        host.WriteFile("dev/vfio/12", "");
        host.WriteFile("dev/vfio/13", "");
        host.WriteFile("dev/vfio/vfio", "");
        host.WriteFile("dev/iommu", "");
        return host;
    }

    private static string[] Qemu(string name) => ["/usr/bin/qemu-system-x86_64", "-name", name, "-machine", "q35"];

    [Fact]
    public void A_libvirt_guest_holding_the_group_file_is_named_by_its_domain()
    {
        using var host = TwoNics().AddProcess(227, "qemu-system-x86", Qemu("guest=web01,debug-threads=on"), "/dev/vfio/12");
        var d = ReaderFixture.ReadAll(host).Devices.Single(Nic);
        var u = Assert.Single(d.InUse);
        Assert.Equal((227, "qemu-system-x86", "web01", (int?)null, VfioHoldKind.GroupFile, "/dev/vfio/12"), (u.ProcessId, u.ProcessName, u.DomainName, u.VmId, u.HeldThrough, u.Path));
        Assert.Equal(DeviceUsage.InUse, d.Usage);
        Assert.Equal("domain web01 (qemu-system-x86[227], /dev/vfio/12)", u.ToString());
        Assert.Equal("virsh shutdown web01", u.StopHint);
        Assert.Equal(DeviceUsage.NotInUse, ReaderFixture.ReadAll(host).Devices.Single(Other).Usage);
    }

    [Theory]
    [InlineData("guest=one-42,debug-threads=on", "one-42", 42)]
    [InlineData("one-7", "one-7", 7)]
    [InlineData("guest=a,,b,debug-threads=on", "a,b", null)]
    [InlineData("debug-threads=on,guest=one-x", "one-x", null)]
    [InlineData("guest=one-9=x", "one-9=x", null)]
    public void QEMUs_name_option_is_read_as_QEMU_reads_it(string option, string domain, int? vmId)
    {
        using var host = TwoNics().AddProcess(300, "qemu-system-x86", Qemu(option), "/dev/vfio/12");
        var u = Assert.Single(ReaderFixture.ReadAll(host).Devices.Single(Nic).InUse);
        Assert.Equal((domain, vmId), (u.DomainName, u.VmId));
    }

    [Fact]
    public void An_OpenNebula_VM_is_named_with_its_ID_and_the_command_that_stops_it()
    {
        using var host = TwoNics().AddProcess(227, "qemu-system-x86", Qemu("guest=one-42,debug-threads=on"), "/dev/vfio/12");
        var u = Assert.Single(ReaderFixture.ReadAll(host).Devices.Single(Nic).InUse);
        Assert.Equal("domain one-42 (VM 42, qemu-system-x86[227], /dev/vfio/12)", u.ToString());
        Assert.Equal("onevm poweroff 42 (or virsh shutdown one-42)", u.StopHint);
    }

    [Fact]
    public void A_guest_on_iommufd_holds_the_function_behind_its_vfio_device_file()
    {
        using var host = TwoNics()
            .AddVfioDeviceFile($"sys/bus/pci/devices/{Nic}", 0)
            .AddVfioDeviceFile($"sys/bus/pci/devices/{Other}", 1)
            .AddProcess(400, "qemu-system-x86", Qemu("guest=one-8"), "/dev/iommu", "/dev/vfio/devices/vfio0");
        var devices = ReaderFixture.ReadAll(host).Devices;
        var u = Assert.Single(devices.Single(Nic).InUse);
        Assert.Equal((VfioHoldKind.DeviceFile, "/dev/vfio/devices/vfio0", 8), (u.HeldThrough, u.Path, u.VmId));
        Assert.Empty(devices.Single(Other).InUse);
        Assert.Equal(DeviceUsage.NotInUse, devices.Single(Other).Usage);
    }

    [Fact]
    public void Without_the_class_link_the_device_file_is_found_through_the_functions_own_vfio_dev_folder()
    {
        using var host = new FakeHost();
        host.Add(new FakeDevice(Nic) { Device = 0x10d3, Driver = "vfio-pci", IommuGroup = 12 });
        host.AddVfioDeviceFile($"sys/bus/pci/devices/{Nic}", 3, classLink: false)
            .AddProcess(401, "qemu-system-x86", Qemu("guest=db"), "/dev/iommu", "/dev/vfio/devices/vfio3");
        var u = Assert.Single(ReaderFixture.ReadAll(host).Devices.Single(Nic).InUse);
        Assert.Equal(("db", VfioHoldKind.DeviceFile), (u.DomainName, u.HeldThrough));
    }

    [Fact]
    public void A_process_holding_only_dev_iommu_holds_no_device()
    {
        using var host = TwoNics().AddVfioDeviceFile($"sys/bus/pci/devices/{Nic}", 0)
            .AddProcess(402, "iommufd-tool", ["iommufd-tool"], "/dev/iommu");
        var devices = ReaderFixture.ReadAll(host).Devices;
        Assert.All(devices, d => Assert.Equal(DeviceUsage.NotInUse, d.Usage));
        Assert.All(devices, d => Assert.Empty(d.InUse));
    }

    [Fact]
    public void When_another_users_process_cannot_be_read_a_free_device_is_unknown_never_not_in_use()
    {
        using var host = TwoNics()
            .AddProcess(227, "qemu-system-x86", Qemu("guest=one-42"), "/dev/vfio/12")
            .AddUnreadableProcess(500, "qemu-system-x86");
        var devices = ReaderFixture.ReadAll(host).Devices;
        Assert.Equal(DeviceUsage.InUse, devices.Single(Nic).Usage);
        Assert.Equal(DeviceUsage.Unknown, devices.Single(Other).Usage);

        var root = new HostRoot(host.Root);
        var reader = new PciDeviceReader(root, PciIdDatabaseLocator.Locate(root, null));
        var readiness = new PassthroughReadinessInspector(root, reader).Assess(reader.Read(PciAddress.Parse(Other))!);
        var notInUse = readiness.Findings.Single(f => f.Name == "NotInUse");
        Assert.Equal(CheckStatus.Unknown, notInUse.Status);
        Assert.Contains("root", notInUse.Remedy, StringComparison.Ordinal);
    }

    [Fact]
    public void With_no_vfio_file_on_the_host_nothing_can_be_held_even_when_processes_cannot_be_read()
    {
        using var host = new FakeHost();
        host.Add(new FakeDevice(Nic) { Device = 0x10d3, Driver = "e1000e", IommuGroup = 12 });
        host.AddUnreadableProcess(500, "sshd");
        Assert.Equal(DeviceUsage.NotInUse, ReaderFixture.ReadAll(host).Devices.Single(Nic).Usage);
    }

    [Fact]
    public void A_guest_holding_an_mdev_group_holds_its_parent_function_too()
    {
        using var host = MdevHost.Create();
        const string Uuid = "b1c2d3e4-0000-4000-8000-000000000001";
        MdevHost.AddInstance(host, $"sys/devices/pci0000:41/{MdevHost.Gpu}", "nvidia-558", Uuid, 40);
        host.AddProcess(600, "qemu-system-x86", Qemu("guest=one-5"), "/dev/vfio/40");
        var gpu = ReaderFixture.ReadAll(host).Devices.Single(MdevHost.Gpu);
        var u = Assert.Single(gpu.InUse);
        Assert.Equal((VfioHoldKind.MediatedDeviceGroup, Uuid, 5, "/dev/vfio/40"), (u.HeldThrough, u.MediatedDevice, u.VmId, u.Path));
        Assert.Contains($"/dev/vfio/40 of mdev {Uuid}", u.ToString(), StringComparison.Ordinal);

        var mdev = new Mdev.MediatedDeviceReader(new HostRoot(host.Root)).Devices().Devices.Single(m => m.Uuid == Uuid);
        Assert.Equal(VfioHoldKind.MediatedDeviceGroup, Assert.Single(mdev.InUse).HeldThrough);
    }

    [Fact]
    public void A_guest_holding_an_mdevs_device_file_holds_the_mdev_and_its_parent()
    {
        using var host = MdevHost.Create();
        const string Uuid = "b1c2d3e4-0000-4000-8000-000000000002";
        var parent = $"sys/devices/pci0000:41/{MdevHost.Gpu}";
        MdevHost.AddInstance(host, parent, "nvidia-558", Uuid, 41);
        host.AddVfioDeviceFile($"{parent}/{Uuid}", 2).AddProcess(601, "qemu-system-x86", Qemu("guest=one-6"), "/dev/iommu", "/dev/vfio/devices/vfio2");
        var u = Assert.Single(ReaderFixture.ReadAll(host).Devices.Single(MdevHost.Gpu).InUse);
        Assert.Equal((VfioHoldKind.DeviceFile, Uuid, 6), (u.HeldThrough, u.MediatedDevice, u.VmId));
        var mdev = new Mdev.MediatedDeviceReader(new HostRoot(host.Root)).Devices().Devices.Single(m => m.Uuid == Uuid);
        Assert.Equal(6, Assert.Single(mdev.InUse).VmId);
    }

    [Fact]
    public void The_safety_rule_is_unknown_for_an_unreadable_host_and_names_the_VM_to_stop_when_held()
    {
        using var host = TwoNics()
            .AddProcess(227, "qemu-system-x86", Qemu("guest=one-42"), "/dev/vfio/12")
            .AddUnreadableProcess(500, "qemu-system-x86");
        host.Add(new FakeDevice("0000:03:00.0") { Device = 0x10d3, Driver = "e1000e", IommuGroup = 12 });
        var root = new HostRoot(host.Root);
        var reader = new PciDeviceReader(root, PciIdDatabaseLocator.Locate(root, null));
        var rules = new DeviceSafetyRules(root);
        var held = rules.Evaluate(reader.Read(PciAddress.Parse("0000:03:00.0"))!, SafetyPurpose.Bind).Single(f => f.Name == "NotHeldByGuest");
        Assert.Equal(CheckStatus.Fail, held.Status);
        Assert.Contains("domain one-42 (VM 42", held.Detail, StringComparison.Ordinal);
        Assert.Contains("onevm poweroff 42", held.Remedy, StringComparison.Ordinal);
        var unknown = rules.Evaluate(reader.Read(PciAddress.Parse(Other))!, SafetyPurpose.Bind).Single(f => f.Name == "NotHeldByGuest");
        Assert.Equal(CheckStatus.Unknown, unknown.Status);
    }
}
