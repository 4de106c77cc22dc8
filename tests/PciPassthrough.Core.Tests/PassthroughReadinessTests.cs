using PciPassthrough.Binding;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Iommu;
using PciPassthrough.Readiness;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Core.Tests;

public class PassthroughReadinessTests
{
    private static PassthroughReadiness Assess(FakeHost host, string address)
    {
        var root = new HostRoot(host.Root);
        var devices = new PciDeviceReader(root, PciIdDatabaseLocator.Locate(root, null));
        return new PassthroughReadinessInspector(root, devices).Assess(devices.Read(PciAddress.Parse(address))!);
    }

    private static ReadinessCheck Finding(PassthroughReadiness r, string name) => r.Findings.Single(f => f.Name == name);

    [Fact]
    public void A_gpu_on_its_host_driver_with_nothing_configured_is_ready_neither_now_nor_after_a_reboot()
    {
        using var host = ReadinessHost.Create();
        var r = Assess(host, "0000:01:00.0");
        Assert.False(r.ReadyNow);
        Assert.False(r.ReadyAfterReboot);
        Assert.DoesNotContain(r.Findings, f => f.Status == CheckStatus.Fail);
        Assert.Equal(CheckStatus.Warning, Finding(r, "BoundToVfio").Status);
        Assert.Contains("Set-VfioBinding -Address 0000:01:00.0", Finding(r, "BoundToVfio").Remedy);
        Assert.Equal(CheckStatus.Warning, Finding(r, "BindsAtBoot").Status);
        var race = Finding(r, "HostDriverCannotWin");
        Assert.Equal(CheckStatus.Warning, race.Status);
        Assert.Contains("nvidia, nouveau", race.Detail);
        Assert.Contains("softdep nvidia pre: vfio-pci", race.Remedy);
        Assert.Equal(CheckStatus.Pass, Finding(r, "GroupIsolation").Status);
        Assert.Equal(CheckStatus.Pass, Finding(r, "NotBootVga").Status);
        Assert.Equal(CheckStatus.NotApplicable, Finding(r, "NotDefaultRouteInterface").Status);
        Assert.Equal(CheckStatus.Pass, Finding(r, "LibvirtDeviceAcl").Status);
        Assert.Equal(CheckStatus.Pass, Finding(r, "LockedMemory").Status);
        Assert.Equal(CheckStatus.NotApplicable, Finding(r, "Sriov").Status);
    }

    [Fact]
    public void A_gpu_on_vfio_pci_bound_at_boot_with_its_driver_held_back_is_ready_now_and_after_a_reboot()
    {
        using var host = ReadinessHost.Create();
        host.Link("sys/bus/pci/devices/0000:01:00.0/driver", "../../../bus/pci/drivers/vfio-pci");
        host.WriteFile("etc/sysconfig/vfio-bind", "DEVICES=\"0000:01:00.0\"\n");
        host.WriteFile("etc/modprobe.d/vfio.conf", "softdep nvidia pre: vfio-pci\n# the guide's nouveau lines\nblacklist nouveau\noptions nouveau modeset=0\n");
        host.WriteFile("etc/udev/rules.d/99-vfio.rules", "SUBSYSTEM==\"vfio\", OWNER=\"oneadmin\", GROUP=\"kvm\", MODE=\"0660\"\n");
        host.WriteFile("etc/libvirt/qemu.conf", "cgroup_device_acl = [\n    \"/dev/null\", \"/dev/full\", \"/dev/zero\",\n    \"/dev/random\", \"/dev/urandom\", \"/dev/ptmx\", \"/dev/kvm\",\n    \"/dev/rtc\", \"/dev/hpet\", \"/dev/vfio/vfio\", \"/dev/vfio/6\"\n]\n");
        var r = Assess(host, "0000:01:00.0");
        Assert.True(r.ReadyNow, string.Join("\n", r.Findings.Select(f => f.ToString())));
        Assert.True(r.ReadyAfterReboot);
        Assert.Contains("vfio-bind", Finding(r, "BindsAtBoot").Detail);
        Assert.Equal(CheckStatus.Pass, Finding(r, "HostDriverCannotWin").Status);
        Assert.Contains("99-vfio.rules", Finding(r, "DevicePermissions").Detail);
        Assert.Equal(CheckStatus.Pass, Finding(r, "LibvirtDeviceAcl").Status);
    }

    [Theory]
    [InlineData("\"/dev/null\", \"/dev/full\", \"/dev/zero\", \"/dev/random\", \"/dev/urandom\", \"/dev/ptmx\", \"/dev/kvm\", \"/dev/rtc\", \"/dev/hpet\", \"/dev/vfio/vfio\", \"/dev/vfio/45\"", "does not name /dev/vfio/6, the device's current group (it names /dev/vfio/45")]
    [InlineData("\"/dev/null\", \"/dev/full\", \"/dev/zero\", \"/dev/random\", \"/dev/urandom\", \"/dev/ptmx\", \"/dev/kvm\", \"/dev/rtc\", \"/dev/hpet\", \"/dev/vfio/vfio\", \"/dev/vfio/6\", \"/dev/vfio/45\"", "names groups that no longer exist: /dev/vfio/45")]
    [InlineData("\"/dev/vfio/vfio\", \"/dev/vfio/6\"", "drops libvirt's defaults /dev/null, /dev/full")]
    [InlineData("\"/dev/null\", \"/dev/full\", \"/dev/zero\", \"/dev/random\", \"/dev/urandom\", \"/dev/ptmx\", \"/dev/kvm\", \"/dev/rtc\", \"/dev/hpet\", \"/dev/vfio/6\"", "lacks /dev/vfio/vfio")]
    public void A_stale_or_incomplete_libvirt_acl_is_flagged(string entries, string expected)
    {
        using var host = ReadinessHost.Create();
        host.WriteFile("etc/libvirt/qemu.conf", $"# comment\ncgroup_device_acl = [ {entries} ]\n");
        var acl = Finding(Assess(host, "0000:01:00.0"), "LibvirtDeviceAcl");
        Assert.Equal(CheckStatus.Warning, acl.Status);
        Assert.Contains(expected, acl.Detail);
        Assert.Contains("CURRENT group devices", acl.Remedy);
    }

    [Fact]
    public void A_broken_acl_list_fails_and_a_missing_qemu_conf_does_not_apply()
    {
        using var host = ReadinessHost.Create();
        host.WriteFile("etc/libvirt/qemu.conf", "cgroup_device_acl = [ \"/dev/null\",\n  \"/dev/vfio/6\"\n");
        Assert.Equal(CheckStatus.Fail, Finding(Assess(host, "0000:01:00.0"), "LibvirtDeviceAcl").Status);
        File.Delete(Path.Combine(host.Root, "etc/libvirt/qemu.conf"));
        var r = Assess(host, "0000:01:00.0");
        Assert.Equal(CheckStatus.NotApplicable, Finding(r, "LibvirtDeviceAcl").Status);
        Assert.Equal(CheckStatus.Warning, Finding(r, "LockedMemory").Status);
    }

    [Fact]
    public void The_storage_controller_holding_root_fails_and_so_does_every_device_of_its_group()
    {
        using var host = ReadinessHost.Create();
        var ahci = Assess(host, "0000:00:1f.2");
        Assert.Equal(CheckStatus.Fail, Finding(ahci, "NoMountedStorage").Status);
        Assert.Contains("/ (on sda1)", Finding(ahci, "NoMountedStorage").Detail);
        var smbus = Assess(host, "0000:00:1f.3");
        Assert.Equal(CheckStatus.Pass, Finding(smbus, "NoMountedStorage").Status);
        var isolation = Finding(smbus, "GroupIsolation");
        Assert.Equal(CheckStatus.Fail, isolation.Status);
        Assert.Contains("0000:00:1f.2 (Mounted beneath it: / (on sda1)", isolation.Detail);
        Assert.Equal(["0000:00:1f.0", "0000:00:1f.2"], smbus.GroupMembers);
        Assert.False(smbus.ReadyNow);
    }

    [Fact]
    public void Storage_reached_through_device_mapper_slaves_counts()
    {
        using var host = ReadinessHost.Create();
        var nvme = Finding(Assess(host, "0001:00:00.0"), "NoMountedStorage");
        Assert.Equal(CheckStatus.Fail, nvme.Status);
        Assert.Contains("/srv/data (on nvme0n1p2)", nvme.Detail);
    }

    [Fact]
    public void Swap_counts_as_mounted_storage()
    {
        using var host = ReadinessHost.Create();
        host.WriteFile("proc/mounts", "");
        host.WriteFile("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n/dev/nvme0n1p2                          partition\t8388604\t0\t-2\n");
        Assert.Contains("swap (on nvme0n1p2)", Finding(Assess(host, "0001:00:00.0"), "NoMountedStorage").Detail);
    }

    [Fact]
    public void The_nic_carrying_the_default_route_fails_and_so_does_a_pf_with_vfs_as_the_binder_refuses_it()
    {
        using var host = ReadinessHost.Create();
        var pf = Assess(host, "0000:02:00.0");
        var route = Finding(pf, "NotDefaultRouteInterface");
        Assert.Equal(CheckStatus.Fail, route.Status);
        Assert.Contains("enp2s0f0 carries the host's default route", route.Detail);
        Assert.Equal(CheckStatus.Fail, Finding(pf, "NoActiveVirtualFunctions").Status);
        Assert.Equal(CheckStatus.NotApplicable, Finding(pf, "Sriov").Status);
        Assert.False(pf.ReadyNow);
        Assert.False(pf.ReadyAfterReboot);
    }

    [Fact]
    public void No_remedy_suggests_binding_or_blacklisting_a_device_the_host_keeps()
    {
        using var host = ReadinessHost.Create();
        foreach (var address in new[] { "0000:02:00.0", "0000:00:1f.2" })
        {
            var r = Assess(host, address);
            Assert.Contains(r.Findings, f => f.Status == CheckStatus.Fail);
            Assert.All(r.Findings.Where(f => f.Remedy is not null), f =>
            {
                Assert.DoesNotContain("Set-VfioBinding -Address", f.Remedy, StringComparison.Ordinal);
                Assert.DoesNotContain("blacklist", f.Remedy, StringComparison.Ordinal);
            });
            Assert.Contains("Keep it on the host", Finding(r, "BoundToVfio").Remedy);
        }
    }

    [Fact]
    public void The_readiness_audit_and_the_binder_judge_every_device_alike()
    {
        using var host = ReadinessHost.Create();
        var root = new HostRoot(host.Root);
        var devices = new PciDeviceReader(root, PciIdDatabaseLocator.Locate(root, null));
        var safety = new BindingSafety(root);
        var rules = new[] { "IommuGroup", "Endpoint", "NotBootVga", "NotDefaultRouteInterface", "NoMountedStorage", "NoActiveVirtualFunctions" };
        var compared = 0;
        foreach (var device in devices.ReadAll())
        {
            var audit = new PassthroughReadinessInspector(root, devices).Assess(device);
            var firstFail = audit.Findings.FirstOrDefault(f => rules.Contains(f.Name) && f.Status == CheckStatus.Fail);
            var refusal = Record.Exception(() => safety.CheckDevice(device)) as PciPassthroughException;
            if (Finding(audit, "IommuEnabled").Status == CheckStatus.Fail)
            {
                continue; // the binder then refuses everything with IommuNotActive
            }

            Assert.Equal(firstFail is null, refusal is null);
            if (refusal is not null && firstFail is not null)
            {
                Assert.StartsWith($"Refusing to change {device.PciAddress}", refusal.Message);
                Assert.Contains(firstFail.Detail.TrimEnd('.')[1..], refusal.Message);
            }

            compared++;
        }

        Assert.True(compared > 5, $"only {compared} devices compared");
    }

    [Fact]
    public void A_safety_check_whose_input_is_missing_is_unknown_not_pass()
    {
        using var host = ReadinessHost.Create();
        File.Delete(Path.Combine(host.Root, "proc/net/route"));
        File.Delete(Path.Combine(host.Root, "proc/net/ipv6_route"));
        File.Delete(Path.Combine(host.Root, "proc/mounts"));
        File.Delete(Path.Combine(host.Root, "proc/self/mountinfo"));
        var nic = Assess(host, "0000:02:00.0");
        Assert.Equal(CheckStatus.Unknown, Finding(nic, "NotDefaultRouteInterface").Status);
        Assert.Equal(CheckStatus.Unknown, Finding(nic, "NoMountedStorage").Status);
        Assert.Contains("cannot be read", Finding(nic, "NotDefaultRouteInterface").Detail);
    }

    [Fact]
    public void A_default_route_over_a_bridge_protects_the_bridge_ports()
    {
        using var host = ReadinessHost.Create();
        host.WriteFile("proc/net/route", "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\nbr0\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n");
        host.WriteFile("proc/net/ipv6_route", "");
        Directory.CreateDirectory(Path.Combine(host.Root, "sys/class/net/br0/brif/bond0"));
        host.WriteFile("sys/class/net/bond0/bonding/slaves", "enp2s16\n");
        Assert.Equal(CheckStatus.Fail, Finding(Assess(host, "0000:02:10.0"), "NotDefaultRouteInterface").Status);
        Assert.Equal(CheckStatus.Pass, Finding(Assess(host, "0000:02:00.0"), "NotDefaultRouteInterface").Status);
    }

    [Fact]
    public void Bridges_and_the_boot_vga_fail()
    {
        using var host = ReadinessHost.Create();
        Assert.Equal(CheckStatus.Fail, Finding(Assess(host, "0000:00:01.0"), "Endpoint").Status);
        Assert.Equal(CheckStatus.Fail, Finding(Assess(host, "0000:00:00.0"), "Endpoint").Status);
        var vga = Assess(host, "0000:03:00.0");
        Assert.Equal(CheckStatus.Fail, Finding(vga, "NotBootVga").Status);
        Assert.Contains("BAR 0", Finding(vga, "NotBootVga").Detail);
    }

    [Fact]
    public void A_vf_needs_its_pf_on_a_host_driver()
    {
        using var host = ReadinessHost.Create();
        var vf = Assess(host, "0000:02:10.4");
        Assert.Equal(CheckStatus.Pass, Finding(vf, "Sriov").Status);
        Assert.Contains("0000:02:00.0 is on igb", Finding(vf, "Sriov").Detail);
        Assert.Equal(CheckStatus.Pass, Finding(vf, "BoundToVfio").Status);

        host.Link("sys/bus/pci/devices/0000:02:00.0/driver", "../../../bus/pci/drivers/vfio-pci");
        var orphan = Finding(Assess(host, "0000:02:10.4"), "Sriov");
        Assert.Equal(CheckStatus.Fail, orphan.Status);
        Assert.Contains("Remove-VfioBinding -Address 0000:02:00.0", orphan.Remedy);
    }

    [Fact]
    public void Vfio_pci_ids_and_a_blacklist_make_the_boot_binding_but_say_that_ids_capture_every_identical_card()
    {
        using var host = ReadinessHost.Create();
        host.WriteFile("etc/modprobe.d/local.conf", "options vfio-pci ids=10de:1eb8\n");
        host.WriteFile("proc/cmdline", "ro intel_iommu=on modprobe.blacklist=nvidia,nouveau\n");
        var r = Assess(host, "0000:01:00.0");
        Assert.Contains("claims every device with these ids", Finding(r, "BindsAtBoot").Detail);
        Assert.Equal(CheckStatus.Pass, Finding(r, "HostDriverCannotWin").Status);
        Assert.True(r.ReadyAfterReboot);
        Assert.False(r.ReadyNow);
    }

    [Fact]
    public void A_device_outside_every_group_fails_without_throwing()
    {
        using var host = ReadinessHost.Create();
        var r = Assess(host, "0000:04:00.0");
        Assert.Equal(CheckStatus.Fail, Finding(r, "IommuGroup").Status);
        Assert.Equal(CheckStatus.Pass, Finding(r, "IommuEnabled").Status);
        Assert.Equal(CheckStatus.NotApplicable, Finding(r, "HostDriverCannotWin").Status);
        Assert.False(r.ReadyNow);
        Assert.All(r.Findings, f => Assert.Equal(f.Status is CheckStatus.Fail or CheckStatus.Warning, f.Remedy is not null));
    }

    [Fact]
    public void A_root_mounted_as_dev_root_is_traced_by_its_device_number()
    {
        using var host = ReadinessHost.Create();
        host.WriteFile("proc/mounts", "/dev/root / ext4 rw 0 0\n");
        host.WriteFile("proc/self/mountinfo", "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/root rw\n23 22 0:21 / /proc rw - proc proc rw\n");
        host.Link("sys/dev/block/8:1", "../../devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1");
        var check = Finding(Assess(host, "0000:00:1f.2"), "NoMountedStorage");
        Assert.Equal(CheckStatus.Fail, check.Status);
        Assert.Contains("/ (on sda1)", check.Detail);
    }

    [Fact]
    public void Every_disk_of_a_mounted_btrfs_and_every_path_of_a_multipath_nvme_counts()
    {
        using var host = ReadinessHost.Create();
        host.WriteFile("proc/mounts", "/dev/sda1 / btrfs rw 0 0\n/dev/nvme1n1 /data ext4 rw 0 0\n");
        Directory.CreateDirectory(Path.Combine(host.Root, "sys/fs/btrfs/1234-abcd/devices"));
        host.Link("sys/fs/btrfs/1234-abcd/devices/nvme0n1p2", "../../../../devices/pci0001:00/0001:00:00.0/nvme/nvme0/nvme0n1/nvme0n1p2");
        Assert.Contains("/ (btrfs) (on nvme0n1p2)", Finding(Assess(host, "0001:00:00.0"), "NoMountedStorage").Detail);

        host.WriteFile("proc/mounts", "/dev/nvme1n1 /data ext4 rw 0 0\n");
        host.Link("sys/class/block/nvme1n1", "../../devices/virtual/nvme-subsystem/nvme-subsys1/nvme1n1");
        Directory.CreateDirectory(Path.Combine(host.Root, "sys/devices/virtual/nvme-subsystem/nvme-subsys1/nvme1n1/multipath"));
        host.Link("sys/devices/virtual/nvme-subsystem/nvme-subsys1/nvme1n1/multipath/nvme1c1n1", "../../../../../pci0001:00/0001:00:00.0/nvme/nvme1/nvme1c1n1");
        host.Link("sys/class/block/nvme1c1n1", "../../devices/pci0001:00/0001:00:00.0/nvme/nvme1/nvme1c1n1");
        Assert.Contains("/data (on nvme1c1n1)", Finding(Assess(host, "0001:00:00.0"), "NoMountedStorage").Detail);
    }

    [Fact]
    public void A_mounted_zfs_pool_makes_every_storage_controller_suspect()
    {
        using var host = ReadinessHost.Create();
        host.WriteFile("proc/mounts", "rpool/ROOT/debian / zfs rw 0 0\n");
        var check = Finding(Assess(host, "0001:00:00.0"), "NoMountedStorage");
        Assert.Equal(CheckStatus.Fail, check.Status);
        Assert.Contains("zpool status", check.Remedy);
        Assert.Equal(CheckStatus.Pass, Finding(Assess(host, "0000:01:00.0"), "NoMountedStorage").Status);
    }

    [Fact]
    public void A_device_a_guest_holds_is_not_ready_now()
    {
        using var host = ReadinessHost.Create();
        host.WriteFile("dev/vfio/9", "");
        host.AddProcess(900, "qemu-kvm-one", ["qemu", "-name", "guest=one-4"], "/dev/vfio/9");
        var r = Assess(host, "0000:02:10.4");
        Assert.Equal(CheckStatus.Warning, Finding(r, "NotInUse").Status);
        Assert.Contains("one-4", Finding(r, "NotInUse").Detail);
        Assert.False(r.ReadyNow);
    }

    [Fact]
    public void Group_peers_that_do_not_bind_at_boot_spoil_the_reboot()
    {
        using var host = new FakeHost().WithHealthyIntelIommu();
        host.Add(new FakeDevice("0000:05:00.0") { Vendor = 0x10de, ClassCode = 0x030000, Driver = "vfio-pci", IommuGroup = 4 })
            .Add(new FakeDevice("0000:05:00.1") { Vendor = 0x10de, ClassCode = 0x040300, Driver = "vfio-pci", IommuGroup = 4 });
        host.WriteFile("etc/sysconfig/vfio-bind", "DEVICES=\"0000:05:00.0\"\n");
        var r = Assess(host, "0000:05:00.0");
        Assert.True(r.ReadyNow);
        Assert.False(r.ReadyAfterReboot);
        Assert.Contains("its group peers 0000:05:00.1 are not", Finding(r, "BindsAtBoot").Detail);
        host.WriteFile("etc/sysconfig/vfio-bind", "DEVICES=\"0000:05:00.0 0000:05:00.1\"\n");
        Assert.True(Assess(host, "0000:05:00.0").ReadyAfterReboot);
    }

    [Fact]
    public void A_driverctl_override_keeps_the_host_driver_off_without_a_blacklist()
    {
        using var host = ReadinessHost.Create();
        host.WriteFile("etc/driverctl.d/pci-0000:01:00.0", "vfio-pci\n");
        var r = Assess(host, "0000:01:00.0");
        Assert.Contains("driverctl", Finding(r, "BindsAtBoot").Detail);
        Assert.Equal(CheckStatus.Pass, Finding(r, "HostDriverCannotWin").Status);
        Assert.True(r.ReadyAfterReboot);
    }

    [Fact]
    public void A_failing_host_check_such_as_interrupt_remapping_means_no_device_is_ready()
    {
        using var host = ReadinessHost.Create();
        host.Link("sys/bus/pci/devices/0000:01:00.0/driver", "../../../bus/pci/drivers/vfio-pci");
        Assert.True(Assess(host, "0000:01:00.0").ReadyNow);
        host.WriteFile("proc/interrupts", "  0:  34  IO-APIC  2-edge  timer\n");
        var r = Assess(host, "0000:01:00.0");
        Assert.False(r.ReadyNow);
        Assert.Contains("InterruptRemapping", Finding(r, "IommuEnabled").Detail);
    }

    [Fact]
    public void The_acl_message_for_a_device_without_a_group_names_no_group()
    {
        using var host = ReadinessHost.Create();
        host.WriteFile("etc/libvirt/qemu.conf", "cgroup_device_acl = [ \"/dev/null\", \"/dev/full\", \"/dev/zero\", \"/dev/random\", \"/dev/urandom\", \"/dev/ptmx\", \"/dev/kvm\", \"/dev/rtc\", \"/dev/hpet\", \"/dev/vfio/vfio\" ]\n");
        var acl = Finding(Assess(host, "0000:04:00.0"), "LibvirtDeviceAcl");
        Assert.Equal(CheckStatus.Pass, acl.Status);
        Assert.DoesNotContain("and .", acl.Detail);
    }

    [Fact]
    public void With_the_iommu_off_every_device_fails_iommu_enabled()
    {
        using var host = ReadinessHost.Create();
        host.WriteFile("proc/cmdline", "ro intel_iommu=off");
        Directory.Delete(Path.Combine(host.Root, "sys/class/iommu/dmar0"));
        var enabled = Finding(Assess(host, "0000:01:00.0"), "IommuEnabled");
        Assert.Equal(CheckStatus.Fail, enabled.Status);
        Assert.Contains("intel_iommu", enabled.Remedy);
    }
}
