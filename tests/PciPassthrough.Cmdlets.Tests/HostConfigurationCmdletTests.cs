namespace PciPassthrough.Cmdlets.Tests;

public class HostConfigurationCmdletTests(ReadinessHostSession session) : IClassFixture<ReadinessHostSession>
{
    private const string SetFqid = ",PciPassthrough.PowerShell.Commands.SetVfioHostConfigurationCommand";

    private static FakeHost Host()
    {
        var host = ReadinessHost.Create();
        host.WriteFile("etc/default/grub", "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX=\"console=ttyS0\"\n");
        Directory.CreateDirectory(Path.Combine(host.Root, "etc/dracut.conf.d"));
        Directory.CreateDirectory(Path.Combine(host.Root, "etc/systemd/system"));
        Directory.CreateDirectory(Path.Combine(host.Root, "etc/udev/rules.d"));
        Directory.CreateDirectory(Path.Combine(host.Root, "usr/local/bin"));
        File.SetUnixFileMode(host.WriteFile("etc/libvirt/qemu.conf", "# libvirt\nuser = \"oneadmin\"\n"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return host;
    }

    private static Dictionary<string, string> Actions(ScriptResult r) =>
        r.Output.ToDictionary(o => (string)o.Properties["Path"].Value, o => o.Properties["Action"].Value.ToString()!);

    [Fact]
    public void One_run_writes_every_part_and_a_second_identical_run_changes_nothing()
    {
        using var host = Host();
        const string script = "Get-PciDevice -Root $args[0] -Address 0000:01:00.0 | Set-VfioHostConfiguration -BlacklistDriver nouveau -SoftdepDriver nvidia -IommuPassthrough -Confirm:$false";
        var first = session.Ps.Run(script, host.Root);
        Assert.Null(first.TerminatingError);
        Assert.Empty(first.Errors);
        Assert.Equal(new Dictionary<string, string>
        {
            ["/etc/default/grub"] = "Updated",
            ["/etc/dracut.conf.d/pcipassthrough-vfio.conf"] = "Created",
            ["/etc/modprobe.d/pcipassthrough-blacklist.conf"] = "Created",
            ["/etc/modprobe.d/pcipassthrough-vfio.conf"] = "Created",
            ["/etc/sysconfig/vfio-bind"] = "Created",
            ["/usr/local/bin/vfio-bind"] = "Created",
            ["/etc/systemd/system/vfio-bind.service"] = "Created",
            ["/etc/udev/rules.d/99-pcipassthrough-vfio.rules"] = "Created",
            ["/etc/libvirt/qemu.conf"] = "Updated",
        }, Actions(first));
        Assert.Contains("To take effect, run: update-grub", first.HostText.Replace("grub-mkconfig -o /boot/grub/grub.cfg", "update-grub", StringComparison.Ordinal));

        string Read(string path) => File.ReadAllText(Path.Combine(host.Root, path));
        Assert.Equal("GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX=\"console=ttyS0 intel_iommu=on iommu=pt rd.driver.pre=vfio-pci rd.driver.blacklist=nouveau\"\n", Read("etc/default/grub"));
        Assert.Contains("add_drivers+=\" vfio vfio_iommu_type1 vfio_pci vfio_pci_core \"", Read("etc/dracut.conf.d/pcipassthrough-vfio.conf"));
        Assert.Contains("blacklist nouveau\nblacklist lbm-nouveau\noptions nouveau modeset=0\nalias nouveau off\nalias lbm-nouveau off\n", Read("etc/modprobe.d/pcipassthrough-blacklist.conf"));
        Assert.Contains("softdep nvidia pre: vfio-pci\n", Read("etc/modprobe.d/pcipassthrough-vfio.conf"));
        Assert.Contains("DEVICES=\"0000:01:00.0\"", Read("etc/sysconfig/vfio-bind"));
        Assert.Contains("ExecStart=-/usr/local/bin/vfio-bind $DEVICES", Read("etc/systemd/system/vfio-bind.service"));
        Assert.Contains("driver_override", Read("usr/local/bin/vfio-bind"));
        Assert.Equal(UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(host.Root, "usr/local/bin/vfio-bind")) & UnixFileMode.UserExecute);
        Assert.Contains("SUBSYSTEM==\"vfio\", OWNER=\"oneadmin\", GROUP=\"kvm\", MODE=\"0660\"", Read("etc/udev/rules.d/99-pcipassthrough-vfio.rules"));
        var qemu = Read("etc/libvirt/qemu.conf");
        Assert.StartsWith("# libvirt\nuser = \"oneadmin\"\n", qemu);
        Assert.Contains("\"/dev/kvm\"", qemu);
        Assert.Contains("\"/dev/vfio/vfio\",\n    \"/dev/vfio/6\"\n]", qemu);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(host.Root, "etc/libvirt/qemu.conf")));
        Assert.Single(Directory.GetFiles(Path.Combine(host.Root, "etc/libvirt"), "qemu.conf.*.pcipt.bak"));

        var second = session.Ps.Run(script, host.Root);
        Assert.All(Actions(second).Values, a => Assert.Equal("Unchanged", a));
        Assert.Equal(9, second.Output.Count);
    }

    [Fact]
    public void WhatIf_shows_each_files_diff_and_writes_nothing()
    {
        using var host = Host();
        var r = session.Ps.Run("Set-VfioHostConfiguration -Root $args[0] -Address 0000:01:00.0 -WhatIf", host.Root);
        Assert.Null(r.TerminatingError);
        Assert.Empty(r.Output);
        // One preview for the whole call, every file's diff in it.
        Assert.Equal(1, r.HostText.Split("What if:").Length - 1);
        Assert.Contains("What if: /etc/default/grub:", r.HostText);
        Assert.Contains("+GRUB_CMDLINE_LINUX=\"console=ttyS0 intel_iommu=on\"", r.HostText);
        Assert.Contains("\n/etc/sysconfig/vfio-bind:\n", r.HostText);
        Assert.False(File.Exists(Path.Combine(host.Root, "etc/sysconfig/vfio-bind")));
        Assert.Equal("GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX=\"console=ttyS0\"\n", File.ReadAllText(Path.Combine(host.Root, "etc/default/grub")));
    }

    [Theory]
    [InlineData("-Address 0000:02:00.0", "DeviceCarriesDefaultRoute")]
    [InlineData("-Address 0000:00:1f.2", "DeviceHoldsMountedStorage")]
    [InlineData("-Address 0000:09:00.0", "PciDeviceNotFound")]
    public void Binding_the_hosts_own_devices_at_boot_is_refused_and_nothing_is_written(string parameters, string errorId)
    {
        using var host = Host();
        var r = session.Ps.Run($"Set-VfioHostConfiguration -Root $args[0] {parameters} -Confirm:$false", host.Root);
        Assert.Equal(errorId + SetFqid, r.TerminatingError?.FullyQualifiedErrorId);
        Assert.False(File.Exists(Path.Combine(host.Root, "etc/sysconfig/vfio-bind")));
        Assert.Equal("GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX=\"console=ttyS0\"\n", File.ReadAllText(Path.Combine(host.Root, "etc/default/grub")));
    }

    [Fact]
    public void Boot_binding_can_be_set_up_before_the_iommu_is_on_and_dracut_hosts_are_told_to_run_dracut()
    {
        using var host = Host();
        Directory.Delete(Path.Combine(host.Root, "sys/class/iommu/dmar0"));
        host.WriteFile("proc/cmdline", "ro quiet\n");
        var r = session.Ps.Run("Set-VfioHostConfiguration -Root $args[0] -Address 0000:01:00.0 -VfioPciId 10de:1eb8 -Confirm:$false", host.Root);
        Assert.Null(r.TerminatingError);
        Assert.Contains("DEVICES=\"0000:01:00.0\"", File.ReadAllText(Path.Combine(host.Root, "etc/sysconfig/vfio-bind")));
        Assert.Contains("dracut --force", r.HostText);
        Assert.DoesNotContain("update-initramfs", r.HostText);
    }

    [Theory]
    [InlineData("-VfioPciId 8086:1521", "DeviceCarriesDefaultRoute")]
    [InlineData("-BlacklistDriver ahci", "DeviceHoldsMountedStorage")]
    [InlineData("-BlacklistDriver igb", "DeviceCarriesDefaultRoute")]
    public void Boot_settings_that_would_capture_the_hosts_own_devices_are_refused(string parameters, string errorId)
    {
        using var host = Host();
        var r = session.Ps.Run($"Set-VfioHostConfiguration -Root $args[0] {parameters} -SkipKernelCommandLine -Initramfs None -Confirm:$false", host.Root);
        Assert.Equal(errorId + SetFqid, r.TerminatingError?.FullyQualifiedErrorId);
        Assert.False(Directory.Exists(Path.Combine(host.Root, "etc/modprobe.d")));
    }

    [Fact]
    public void A_symlink_out_of_a_captured_root_is_never_written_through()
    {
        using var host = Host();
        var outside = Path.Combine(Path.GetTempPath(), "pcipt-outside-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(outside);
        try
        {
            Directory.CreateSymbolicLink(Path.Combine(host.Root, "etc/modprobe.d"), outside);
            var r = session.Ps.Run("Set-VfioHostConfiguration -Root $args[0] -SoftdepDriver nvidia -SkipKernelCommandLine -Initramfs None -Confirm:$false", host.Root);
            Assert.Equal("PathOutsideRoot" + SetFqid, r.TerminatingError?.FullyQualifiedErrorId);
            Assert.Empty(Directory.GetFileSystemEntries(outside));
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public void A_malformed_grub_file_stops_the_whole_run_before_any_write()
    {
        using var host = Host();
        host.WriteFile("etc/default/grub", "GRUB_CMDLINE_LINUX=\"console=ttyS0\n");
        var r = session.Ps.Run("Set-VfioHostConfiguration -Root $args[0] -Address 0000:01:00.0 -Confirm:$false", host.Root);
        Assert.Equal("InvalidConfigurationFile" + SetFqid, r.TerminatingError?.FullyQualifiedErrorId);
        Assert.False(File.Exists(Path.Combine(host.Root, "etc/sysconfig/vfio-bind")));
        Assert.False(File.Exists(Path.Combine(host.Root, "etc/udev/rules.d/99-pcipassthrough-vfio.rules")));
    }

    [Fact]
    public void A_directory_that_cannot_be_written_stops_the_run_before_its_first_write()
    {
        using var host = Host();
        Directory.Delete(Path.Combine(host.Root, "usr/local/bin"));
        Directory.Delete(Path.Combine(host.Root, "usr/local"));
        var r = session.Ps.Run("Set-VfioHostConfiguration -Root $args[0] -Address 0000:01:00.0 -Confirm:$false", host.Root);
        Assert.Equal("ConfigurationWriteFailed" + SetFqid, r.TerminatingError?.FullyQualifiedErrorId);
        Assert.Contains("/usr/local", r.TerminatingError!.Exception.Message);
        Assert.Equal("GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX=\"console=ttyS0\"\n", File.ReadAllText(Path.Combine(host.Root, "etc/default/grub")));
        Assert.False(File.Exists(Path.Combine(host.Root, "etc/sysconfig/vfio-bind")));
    }

    [Fact]
    public void A_missing_etc_is_a_clear_error()
    {
        using var host = Host();
        Directory.Delete(Path.Combine(host.Root, "etc"), recursive: true);
        var r = session.Ps.Run("Set-VfioHostConfiguration -Root $args[0] -SoftdepDriver nvidia -SkipKernelCommandLine -Initramfs None -Confirm:$false", host.Root);
        Assert.Equal("ConfigurationWriteFailed" + SetFqid, r.TerminatingError?.FullyQualifiedErrorId);
        Assert.Contains("/etc/modprobe.d", r.TerminatingError!.Exception.Message);
    }

    [Fact]
    public void Get_and_Test_read_back_what_was_written()
    {
        using var host = Host();
        session.Ps.Run("Set-VfioHostConfiguration -Root $args[0] -Address 0000:01:00.0 -BlacklistDriver nouveau -Confirm:$false", host.Root);
        var config = session.Ps.Run("Get-VfioHostConfiguration -Root $args[0]", host.Root).Output.Single();
        Assert.Equal(["0000:01:00.0"], (string[])config.Properties["BootBindAddresses"].Value);
        Assert.Contains("nouveau", (string[])config.Properties["BlacklistedDrivers"].Value);
        Assert.Equal("dracut", config.Properties["Initramfs"].Value);
        Assert.Contains("/dev/vfio/6", (string[])config.Properties["LibvirtDeviceAcl"].Value);

        var drift = session.Ps.Run("Test-VfioHostConfiguration -Root $args[0] | Where-Object Status -in 'Warning', 'Fail' | ForEach-Object Name", host.Root);
        // Written, not yet booted: the kernel runs without the new arguments, and the GPU is still on its host driver.
        Assert.Equal(["KernelCommandLine", "BootBindDevices"], drift.Output.Select(o => o.ToString()));
        Assert.Equal([false], session.Ps.Run("Test-VfioHostConfiguration -Root $args[0] -Quiet", host.Root).Output.Select(o => o.BaseObject));
    }

    [Theory]
    [InlineData("BlacklistDriver", "nouveau")]
    [InlineData("SoftdepDriver", "nvidia")]
    [InlineData("VfioPciId", "10de:20b5")]
    [InlineData("UdevOwner", "oneadmin")]
    [InlineData("UdevGroup", "kvm")]
    [InlineData("UdevMode", "660")]
    public void A_value_with_a_trailing_newline_is_refused_at_binding_and_nothing_is_written(string parameter, string value)
    {
        using var host = Host();
        var r = session.Ps.Run($"Set-VfioHostConfiguration -Root $args[0] -Address 0000:01:00.0 -{parameter} $args[1] -Confirm:$false", host.Root, value + "\n");
        Assert.Equal("ParameterArgumentValidationError" + SetFqid, r.TerminatingError?.FullyQualifiedErrorId);
        Assert.False(File.Exists(Path.Combine(host.Root, "etc/sysconfig/vfio-bind")));

        var plain = session.Ps.Run($"Set-VfioHostConfiguration -Root $args[0] -Address 0000:01:00.0 -{parameter} $args[1] -WhatIf", host.Root, value);
        Assert.Null(plain.TerminatingError);
    }
}
