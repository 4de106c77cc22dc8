using PciPassthrough.HostConfig;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Iommu;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Core.Tests;

public class HostConfigurationTests
{
    private const string Grub = "# If you change this file, run 'update-grub'\nGRUB_DEFAULT=0\nGRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"console=ttyS0 intel_iommu=off\"\n# GRUB_TERMINAL=console\n";

    [Fact]
    public void Grub_gains_arguments_keeping_every_other_argument_and_line()
    {
        var text = GrubCommandLine.Apply(Grub, ["intel_iommu=on", "iommu=pt", "rd.driver.blacklist=nouveau"]);
        Assert.Equal(Grub.Replace("\"console=ttyS0 intel_iommu=off\"", "\"console=ttyS0 intel_iommu=on iommu=pt rd.driver.blacklist=nouveau\"", StringComparison.Ordinal), text);
        Assert.Equal(text, GrubCommandLine.Apply(text, ["intel_iommu=on", "iommu=pt", "rd.driver.blacklist=nouveau"]));
        Assert.Contains("rd.driver.blacklist=nouveau,nvidia", GrubCommandLine.Apply(text, ["rd.driver.blacklist=nvidia"]));
    }

    [Theory]
    [InlineData("GRUB_CMDLINE_LINUX=\"quiet\n")]
    [InlineData("GRUB_CMDLINE_LINUX=quiet splash\n")]
    [InlineData("GRUB_CMDLINE_LINUX='a\" b'x\n")]
    public void Unbalanced_grub_quotes_are_refused(string text)
    {
        var e = Assert.Throws<PciPassthroughException>(() => GrubCommandLine.Apply(text, ["intel_iommu=on"]));
        Assert.Equal(ErrorIds.ConfigFileInvalid, e.ErrorId);
    }

    [Fact]
    public void A_grub_file_without_the_line_gets_one()
    {
        Assert.Equal("GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"amd_iommu=on\"\n", GrubCommandLine.Apply("GRUB_TIMEOUT=5", ["amd_iommu=on"]));
    }

    [Fact]
    public void The_libvirt_acl_keeps_other_lines_and_defaults_drops_stale_groups_and_adds_current_ones()
    {
        const string conf = "# qemu.conf\nuser = \"oneadmin\"\n#cgroup_device_acl = [\n#    \"/dev/null\"\n#]\ncgroup_device_acl = [ \"/dev/null\", \"/dev/vfio/vfio\", \"/dev/vfio/45\", \"/dev/custom\" ]\nsecurity_driver = \"none\"\n";
        var text = QemuConfAcl.Apply(conf, [47], [0, 1, 47]);
        Assert.StartsWith("# qemu.conf\nuser = \"oneadmin\"\n#cgroup_device_acl = [\n#    \"/dev/null\"\n#]\ncgroup_device_acl = [\n    \"/dev/null\",\n    \"/dev/full\",", text);
        Assert.EndsWith("    \"/dev/vfio/vfio\",\n    \"/dev/custom\",\n    \"/dev/vfio/47\"\n]\nsecurity_driver = \"none\"\n", text);
        Assert.DoesNotContain("/dev/vfio/45", text);
        Assert.Equal(text, QemuConfAcl.Apply(text, [47], [0, 1, 47]));
        Assert.Equal(ErrorIds.ConfigFileInvalid, Assert.Throws<PciPassthroughException>(() => QemuConfAcl.Apply("cgroup_device_acl = [ \"/dev/null\",\n", [1], [1])).ErrorId);
    }

    [Fact]
    public void With_no_iommu_group_yet_no_acl_entry_is_called_stale()
    {
        var text = QemuConfAcl.Apply("cgroup_device_acl = [ \"/dev/null\", \"/dev/vfio/45\" ]\n", [], []);
        Assert.Contains("\"/dev/vfio/45\"", text);
        Assert.Contains("\"/dev/vfio/vfio\"", text);
    }

    [Fact]
    public void Vfio_virqfd_goes_into_the_initramfs_only_for_kernels_that_still_have_it()
    {
        using var host = new FakeHost().WithHealthyIntelIommu();
        var root = new HostRoot(host.Root);
        Assert.Equal(["vfio", "vfio_iommu_type1", "vfio_pci", "vfio_pci_core"], VfioHostConfigurator.InitramfsModules(root, IommuHostFiles.Release));
        host.WriteFile("lib/modules/5.15.0-91-generic/modules.dep", "kernel/drivers/vfio/vfio_virqfd.ko: \nkernel/drivers/vfio/vfio.ko:\n");
        Assert.Equal(["vfio", "vfio_iommu_type1", "vfio_pci", "vfio_virqfd"], VfioHostConfigurator.InitramfsModules(root, "5.15.0-91-generic"));
        Assert.Equal("# Written by PciPassthrough (Set-VfioHostConfiguration); rewritten on every run.\nadd_drivers+=\" vfio vfio_iommu_type1 vfio_pci \"\n", ModprobeFiles.Dracut(["vfio", "vfio_iommu_type1", "vfio_pci"]));
        Assert.Equal("# modules\nloop\nvfio\nvfio_pci\n", ModprobeFiles.InitramfsTools("# modules\nloop\nvfio\n", ["vfio", "vfio_pci"]));
    }

    [Fact]
    public void Drift_is_found_where_files_and_host_disagree()
    {
        using var host = SampleHost.Create().WithHealthyIntelIommu();
        host.WriteFile("etc/default/grub", "GRUB_CMDLINE_LINUX=\"quiet intel_iommu=on iommu=pt rd.driver.blacklist=nouveau\"\n");
        host.WriteFile("proc/cmdline", "BOOT_IMAGE=/vmlinuz ro quiet intel_iommu=on\n");
        host.WriteFile("etc/sysconfig/vfio-bind", "DEVICES=\"0000:01:00.0 0000:42:00.0\"\n");
        host.WriteFile("etc/modprobe.d/blacklist.conf", "blacklist nouveau\nblacklist nvidia\n");
        Directory.CreateDirectory(Path.Combine(host.Root, "sys/module/nvidia"));
        host.WriteFile("etc/dracut.conf.d/local.conf", "add_drivers+=\"vfio vfio_iommu_type1 vfio_pci vfio_virqfd\"\n");
        host.WriteFile("etc/libvirt/qemu.conf", "cgroup_device_acl = [ \"/dev/null\", \"/dev/vfio/vfio\", \"/dev/vfio/45\" ]\n");
        var root = new HostRoot(host.Root);
        var checks = HostConfigurationDrift.Check(root, new PciDeviceReader(root, PciIdDatabase.Empty)).ToDictionary(c => c.Name);
        Assert.Equal(CheckStatus.Warning, checks["KernelCommandLine"].Status);
        Assert.Contains("iommu=pt", checks["KernelCommandLine"].Detail);
        Assert.Contains("0000:42:00.0", checks["BootBindDevices"].Detail);
        Assert.Contains("nvidia", checks["BlacklistedDrivers"].Detail);
        Assert.DoesNotContain("nouveau", checks["BlacklistedDrivers"].Detail);
        Assert.Equal(CheckStatus.Fail, checks["InitramfsModules"].Status);
        Assert.Contains("vfio_virqfd", checks["InitramfsModules"].Detail);
        Assert.Contains("/dev/vfio/45, which no longer exist", checks["LibvirtDeviceAcl"].Detail);
        Assert.Contains("now in group 6", checks["LibvirtDeviceAcl"].Detail);
        Assert.All(checks.Values.Where(c => c.Status is CheckStatus.Warning or CheckStatus.Fail), c => Assert.NotNull(c.Remedy));
    }

    [Fact]
    public void A_host_configured_as_it_runs_has_no_drift()
    {
        using var host = SampleHost.Create().WithHealthyIntelIommu();
        host.WriteFile("etc/default/grub", "GRUB_CMDLINE_LINUX=\"quiet intel_iommu=on iommu=pt\"\n");
        host.WriteFile("etc/sysconfig/vfio-bind", "DEVICES=\"0000:01:00.0\"\n");
        host.WriteFile("etc/libvirt/qemu.conf", "cgroup_device_acl = [ \"/dev/null\", \"/dev/vfio/vfio\", \"/dev/vfio/6\" ]\n");
        host.Link("sys/bus/pci/devices/0000:01:00.0/driver", "../../../bus/pci/drivers/vfio-pci"); // the boot binding ran
        var root = new HostRoot(host.Root);
        var checks = HostConfigurationDrift.Check(root, new PciDeviceReader(root, PciIdDatabase.Empty));
        Assert.Equal(["KernelCommandLine", "BootBindDevices", "BlacklistedDrivers", "BlacklistAgreement", "InitramfsModules", "LibvirtDeviceAcl", "ResetMethodDrift", "SriovIdentityDrift", "SriovCountDrift"], checks.Select(c => c.Name));
        Assert.All(checks.Where(c => c.Name is not ("BlacklistAgreement" or "ResetMethodDrift" or "SriovIdentityDrift" or "SriovCountDrift")), c => Assert.Equal(CheckStatus.Pass, c.Status));
        Assert.All(checks.Where(c => c.Name.StartsWith("Sriov", StringComparison.Ordinal)), c => Assert.Equal(CheckStatus.NotApplicable, c.Status));
        Assert.Equal(CheckStatus.NotApplicable, checks.Single(c => c.Name == "ResetMethodDrift").Status);
        Assert.Equal(CheckStatus.NotApplicable, checks.Single(c => c.Name == "BlacklistAgreement").Status);
    }
}
