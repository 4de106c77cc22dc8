using PciPassthrough.HostFs;
using PciPassthrough.Iommu;

namespace PciPassthrough.Core.Tests;

public class IommuSupportInspectorTests
{
    private static IommuSupportReport Inspect(FakeHost host) => IommuSupportInspector.Inspect(new HostRoot(host.Root));

    private static ReadinessCheck Check(IommuSupportReport report, string name) => report.Checks.Single(c => c.Name == name);

    [Fact]
    public void A_healthy_intel_host_passes_every_check()
    {
        using var host = new FakeHost().WithHealthyIntelIommu();
        var report = Inspect(host);
        Assert.True(report.Supported);
        Assert.All(report.Checks, c => Assert.Equal(CheckStatus.Pass, c.Status));
        Assert.All(report.Checks, c => Assert.Null(c.Remedy));
        Assert.Equal(["CpuVirtualization", "FirmwareIommuTable", "KernelVersion", "KernelCommandLine", "IommuActive", "InterruptRemapping", "VfioModules", "VfioContainer"], report.Checks.Select(c => c.Name));
        Assert.Equal(("GenuineIntel", "Intel VT-d", IommuHostFiles.Release), (report.CpuVendor, report.IommuType, report.KernelRelease));
        Assert.Contains("iommu=pt is set", Check(report, "KernelCommandLine").Detail);
        Assert.Contains("dmar0", Check(report, "IommuActive").Detail);
    }

    [Fact]
    public void An_amd_host_with_ivrs_needs_no_command_line_argument_when_the_iommu_is_active()
    {
        using var host = new FakeHost().WithHealthyIntelIommu();
        host.WriteFile("proc/cpuinfo", "vendor_id\t: AuthenticAMD\nflags\t\t: fpu svm\n");
        File.Delete(Path.Combine(host.Root, "sys/firmware/acpi/tables/DMAR"));
        host.WriteFile("sys/firmware/acpi/tables/IVRS", "IVRS");
        host.WriteFile("proc/cmdline", "ro quiet\n");
        var report = Inspect(host);
        Assert.True(report.Supported);
        Assert.Equal("AMD-Vi", report.IommuType);
        Assert.Contains("amd_iommu=on is not on the command line, but the IOMMU is active", Check(report, "KernelCommandLine").Detail);
        Assert.Contains("iommu=pt is not set", Check(report, "KernelCommandLine").Detail);
    }

    [Theory]
    [InlineData("vendor_id\t: GenuineIntel\nflags\t\t: fpu sse\n", CheckStatus.Fail, "VT-x")]
    [InlineData("vendor_id\t: AuthenticAMD\nflags\t\t: fpu vmx\n", CheckStatus.Fail, "SVM")]
    [InlineData("CPU implementer\t: 0x41\nFeatures\t: fp asimd\n", CheckStatus.Warning, "neither Intel nor AMD")]
    [InlineData("\u0000\u0001garbage", CheckStatus.Warning, "neither Intel nor AMD")]
    public void The_cpu_check_names_the_missing_feature(string cpuinfo, CheckStatus status, string detail)
    {
        using var host = new FakeHost().WithHealthyIntelIommu();
        host.WriteFile("proc/cpuinfo", cpuinfo);
        var check = Check(Inspect(host), "CpuVirtualization");
        Assert.Equal(status, check.Status);
        Assert.Contains(detail, check.Detail + check.Remedy);
        Assert.NotNull(check.Remedy);
    }

    [Fact]
    public void A_missing_firmware_table_fails_and_missing_acpi_tables_only_warn()
    {
        using var host = new FakeHost().WithHealthyIntelIommu();
        File.Delete(Path.Combine(host.Root, "sys/firmware/acpi/tables/DMAR"));
        var noTable = Check(Inspect(host), "FirmwareIommuTable");
        Assert.Equal(CheckStatus.Fail, noTable.Status);
        Assert.Contains("VT-d", noTable.Remedy);
        Directory.Delete(Path.Combine(host.Root, "sys/firmware"), recursive: true);
        Assert.Equal(CheckStatus.Warning, Check(Inspect(host), "FirmwareIommuTable").Status);
    }

    [Theory]
    [InlineData("3.10.0-1160.el7.x86_64", CheckStatus.Fail)]
    [InlineData("3.12.0", CheckStatus.Pass)]
    [InlineData("4.18.0-513.el8.x86_64", CheckStatus.Pass)]
    [InlineData("2.6.32", CheckStatus.Fail)]
    [InlineData("not-a-version", CheckStatus.Warning)]
    public void The_kernel_must_be_3_12_or_later(string release, CheckStatus status)
    {
        using var host = new FakeHost().WithHealthyIntelIommu();
        host.WriteFile("proc/sys/kernel/osrelease", release);
        Assert.Equal(status, Check(Inspect(host), "KernelVersion").Status);
    }

    [Theory]
    [InlineData("ro intel_iommu=off", true, CheckStatus.Fail)]
    [InlineData("ro iommu=off", true, CheckStatus.Fail)]
    [InlineData("ro intel_iommu=on,sm_on", true, CheckStatus.Pass)]
    [InlineData("ro quiet", true, CheckStatus.Pass)]
    [InlineData("ro quiet", false, CheckStatus.Fail)]
    [InlineData("intel_iommu=on intel_iommu=off", true, CheckStatus.Fail)]
    public void The_command_line_check_follows_what_the_kernel_reads(string cmdline, bool active, CheckStatus status)
    {
        using var host = new FakeHost().WithHealthyIntelIommu();
        host.WriteFile("proc/cmdline", cmdline);
        if (!active)
        {
            Directory.Delete(Path.Combine(host.Root, "sys/class/iommu/dmar0"));
        }

        var check = Check(Inspect(host), "KernelCommandLine");
        Assert.Equal(status, check.Status);
        if (status == CheckStatus.Fail)
        {
            Assert.Contains("GRUB_CMDLINE_LINUX", check.Remedy);
        }
    }

    [Fact]
    public void No_iommu_unit_or_no_groups_fail_the_active_check()
    {
        using var host = new FakeHost().WithHealthyIntelIommu();
        Directory.Delete(Path.Combine(host.Root, "sys/kernel/iommu_groups/0"), recursive: true);
        Assert.Equal(CheckStatus.Fail, Check(Inspect(host), "IommuActive").Status);
        Assert.False(Inspect(host).Supported);
    }

    [Fact]
    public void Interrupt_remapping_fails_without_ir_entries_and_warns_when_unsafe_interrupts_are_allowed()
    {
        using var host = new FakeHost().WithHealthyIntelIommu();
        host.WriteFile("proc/interrupts", "  0:  34  IO-APIC  2-edge  timer\n 24:  0  PCI-MSI 512000-edge  ahci\n");
        var off = Check(Inspect(host), "InterruptRemapping");
        Assert.Equal(CheckStatus.Fail, off.Status);
        Assert.Contains("allow_unsafe_interrupts", off.Remedy);
        host.WriteFile("sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "Y\n");
        Assert.Equal(CheckStatus.Warning, Check(Inspect(host), "InterruptRemapping").Status);
        File.Delete(Path.Combine(host.Root, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"));
        File.Delete(Path.Combine(host.Root, "proc/interrupts"));
        Directory.CreateDirectory(Path.Combine(host.Root, "proc/interrupts"));
        Assert.Equal(CheckStatus.Warning, Check(Inspect(host), "InterruptRemapping").Status);
    }

    [Fact]
    public void Modules_that_are_available_but_not_loaded_pass_and_a_missing_one_fails()
    {
        using var host = new FakeHost().WithHealthyIntelIommu(modulesLoaded: false);
        var report = Inspect(host);
        var modules = Check(report, "VfioModules");
        Assert.Equal(CheckStatus.Pass, modules.Status);
        Assert.Contains("not loaded yet: vfio, vfio_iommu_type1, vfio_pci", modules.Detail);
        Assert.Equal(CheckStatus.Warning, Check(report, "VfioContainer").Status);
        Assert.True(report.Supported);

        host.WriteFile($"lib/modules/{IommuHostFiles.Release}/modules.dep", "kernel/drivers/vfio/vfio.ko.xz:\n");
        var missing = Check(Inspect(host), "VfioModules");
        Assert.Equal(CheckStatus.Fail, missing.Status);
        Assert.Contains("vfio_iommu_type1, vfio_pci", missing.Detail);
        Assert.Equal(CheckStatus.Fail, Check(Inspect(host), "VfioContainer").Status);
    }

    [Fact]
    public void Built_in_modules_count_as_present()
    {
        using var host = new FakeHost().WithHealthyIntelIommu(modulesLoaded: false);
        host.WriteFile($"lib/modules/{IommuHostFiles.Release}/modules.dep", "");
        host.WriteFile($"lib/modules/{IommuHostFiles.Release}/modules.builtin", "kernel/drivers/vfio/vfio.ko\nkernel/drivers/vfio/vfio_iommu_type1.ko\nkernel/drivers/vfio/pci/vfio-pci.ko\n");
        var check = Check(Inspect(host), "VfioModules");
        Assert.Equal(CheckStatus.Pass, check.Status);
        Assert.Contains("loaded or built in", check.Detail);
    }

    [Fact]
    public void Modules_of_another_kernel_do_not_count()
    {
        using var host = new FakeHost().WithHealthyIntelIommu(modulesLoaded: false);
        host.WriteFile("proc/sys/kernel/osrelease", "6.12.0-1-amd64");
        var check = Check(Inspect(host), "VfioModules");
        Assert.Equal(CheckStatus.Fail, check.Status);
        Assert.Contains("lib/modules/6.12.0-1-amd64 tree (it is missing)", check.Detail);
    }

    [Fact]
    public void An_empty_tree_never_throws_and_every_check_says_why()
    {
        using var host = new FakeHost();
        var report = Inspect(host);
        Assert.False(report.Supported);
        Assert.Equal(8, report.Checks.Length);
        Assert.All(report.Checks, c => Assert.NotEqual(CheckStatus.Pass, c.Status));
        Assert.All(report.Checks, c => Assert.False(string.IsNullOrWhiteSpace(c.Remedy)));
    }
}

public class HostileHostFileTests
{
    [Fact]
    public void A_nul_byte_in_host_data_used_as_a_path_reads_as_missing_not_as_an_exception()
    {
        using var host = new FakeHost().WithHealthyIntelIommu();
        host.WriteFile("proc/sys/kernel/osrelease", "6.1.0\0evil\n");
        host.WriteFile("proc/self/mountinfo", "22 1 8:1\0x / / rw - ext4 /dev/sda1 rw\n");
        host.WriteFile("proc/mounts", "/dev/sd\0a1 / ext4 rw 0 0\n");
        var root = new PciPassthrough.HostFs.HostRoot(host.Root);
        Assert.Null(root.TryReadText("/lib/modules/6.1.0\0evil/modules.dep"));
        Assert.Empty(root.ListNames("/sys/class/net/e\0th0"));
        Assert.False(root.Exists("/sys/class/net/e\0th0"));
        var report = PciPassthrough.Iommu.IommuSupportInspector.Inspect(root);
        Assert.NotEmpty(report.Checks);
        _ = PciPassthrough.Safety.MountedStorage.Find(root);
    }
}

public class HostileHostFileTypeTests
{
    [Fact]
    public async Task A_fifo_reads_as_empty_at_once_and_a_link_to_dev_zero_as_unreadable()
    {
        using var host = new FakeHost().WithHealthyIntelIommu();
        var fifo = Path.Combine(host.Root, "proc/cmdline");
        File.Delete(fifo);
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", fifo))
        {
            mkfifo.WaitForExit();
        }

        File.Delete(Path.Combine(host.Root, "proc/cpuinfo"));
        File.CreateSymbolicLink(Path.Combine(host.Root, "proc/cpuinfo"), "/dev/zero");
        var root = new PciPassthrough.HostFs.HostRoot(host.Root);
        // A guard against a hang (the old open blocked forever), not a measure of speed.
        var read = Task.Run(() => (root.TryReadText("/proc/cmdline"), root.TryReadText("/proc/cpuinfo")));
        Assert.Same(read, await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(30))));
        var (cmdline, cpuinfo) = await read;
        Assert.Equal("", cmdline);
        Assert.Null(cpuinfo);
        var report = Task.Run(() => PciPassthrough.Iommu.IommuSupportInspector.Inspect(root));
        Assert.Same(report, await Task.WhenAny(report, Task.Delay(TimeSpan.FromSeconds(30))));
    }

    [Fact]
    public void A_byte_order_mark_is_not_part_of_the_text()
    {
        using var host = new FakeHost();
        host.WriteFile("etc/default/grub", "\uFEFFGRUB_CMDLINE_LINUX=\"quiet\"\n");
        Assert.Equal("GRUB_CMDLINE_LINUX=\"quiet\"\n", new PciPassthrough.HostFs.HostRoot(host.Root).TryReadText("/etc/default/grub"));
    }
}
