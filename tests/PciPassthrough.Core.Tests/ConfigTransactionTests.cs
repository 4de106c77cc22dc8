using PciPassthrough.Binding;
using PciPassthrough.HostConfig;
using PciPassthrough.HostFs;

namespace PciPassthrough.Core.Tests;

/// <summary>Configuration writes of one call are a set (D5), and writers take a lock that only root or the caller may own (D6).</summary>
public class ConfigTransactionTests
{
    private static readonly DateTime Now = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    [Fact]
    public void A_failure_while_replacing_puts_back_every_file_already_replaced_and_leaves_no_temp_or_backup()
    {
        using var host = new FakeHost();
        var root = new HostRoot(host.Root);
        var grub = host.WriteFile("etc/default/grub", "GRUB_CMDLINE_LINUX=\"quiet\"\n");
        host.WriteFile("etc/modprobe.d/keep.conf", "options x y=1\n");
        // The udev rule's name is taken by a directory: the third file cannot be put in place.
        var rules = Path.Combine(host.Root, "etc/udev/rules.d/99-pcipassthrough-vfio.rules");
        Directory.CreateDirectory(Path.Combine(rules, "sub"));
        var plan = new[]
        {
            ConfigFiles.Plan(root, "/etc/default/grub", _ => "GRUB_CMDLINE_LINUX=\"quiet intel_iommu=on\"\n"),
            ConfigFiles.Plan(root, "/etc/modprobe.d/pcipassthrough-vfio.conf", _ => "softdep nvidia pre: vfio-pci\n"),
            ConfigFiles.Plan(root, "/etc/udev/rules.d/99-pcipassthrough-vfio.rules", _ => "SUBSYSTEM==\"vfio\"\n"),
        };

        var e = Assert.Throws<PciPassthroughException>(() => ConfigFiles.ApplyAll(plan, Now));

        Assert.Equal(ErrorIds.ConfigWriteFailed, e.ErrorId);
        Assert.Contains("put back", e.Message);
        Assert.Equal("GRUB_CMDLINE_LINUX=\"quiet\"\n", File.ReadAllText(grub));
        Assert.False(File.Exists(Path.Combine(host.Root, "etc/modprobe.d/pcipassthrough-vfio.conf")));
        Assert.True(Directory.Exists(Path.Combine(rules, "sub")));
        Assert.Equal(["grub"], Names(host, "etc/default"));
        Assert.Equal(["keep.conf"], Names(host, "etc/modprobe.d"));
        Assert.Equal(["99-pcipassthrough-vfio.rules"], Names(host, "etc/udev/rules.d"));
    }

    [Fact]
    public void A_failure_while_preparing_writes_nothing_and_removes_what_it_prepared()
    {
        using var host = new FakeHost();
        var root = new HostRoot(host.Root);
        var grub = host.WriteFile("etc/default/grub", "GRUB_CMDLINE_LINUX=\"quiet\"\n");
        var plan = new[]
        {
            ConfigFiles.Plan(root, "/etc/default/grub", _ => "GRUB_CMDLINE_LINUX=\"quiet iommu=pt\"\n"),
            ConfigFiles.Plan(root, "/etc/modprobe.d/pcipassthrough-vfio.conf", _ => "softdep nvidia pre: vfio-pci\n"),
            // Neither /etc/libvirt nor its parent exists: refused before anything is replaced.
            ConfigFiles.Plan(root, "/etc/libvirt/x/qemu.conf", _ => "user = \"oneadmin\"\n"),
        };

        var e = Assert.Throws<PciPassthroughException>(() => ConfigFiles.ApplyAll(plan, Now));

        Assert.Equal(ErrorIds.ConfigWriteFailed, e.ErrorId);
        Assert.Equal("/etc/libvirt/x/qemu.conf", e.Target);
        Assert.Equal("GRUB_CMDLINE_LINUX=\"quiet\"\n", File.ReadAllText(grub));
        Assert.Equal(["grub"], Names(host, "etc/default"));
        Assert.False(Directory.Exists(Path.Combine(host.Root, "etc/modprobe.d")));
    }

    [Fact]
    public void A_completed_set_keeps_an_exact_backup_of_each_previous_content()
    {
        using var host = new FakeHost();
        var root = new HostRoot(host.Root);
        var grub = host.WriteFile("etc/default/grub", "GRUB_CMDLINE_LINUX=\"quiet\"\n");
        File.SetUnixFileMode(grub, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var applied = ConfigFiles.ApplyAll([ConfigFiles.Plan(root, "/etc/default/grub", _ => "GRUB_CMDLINE_LINUX=\"\"\n")], Now);

        Assert.Equal("/etc/default/grub.20260102030405.pcipt.bak", applied[0].Backup);
        Assert.Equal("GRUB_CMDLINE_LINUX=\"quiet\"\n", File.ReadAllText(root.Resolve(applied[0].Backup!)));
        Assert.Equal("GRUB_CMDLINE_LINUX=\"\"\n", File.ReadAllText(grub));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(grub));
        Assert.Equal(["grub", "grub.20260102030405.pcipt.bak"], Names(host, "etc/default"));
    }

    [Fact]
    public void A_configuration_file_that_is_a_fifo_is_refused_by_name_not_waited_on()
    {
        using var host = new FakeHost();
        var root = new HostRoot(host.Root);
        Directory.CreateDirectory(Path.Combine(host.Root, "etc/default"));
        var fifo = Path.Combine(host.Root, "etc/default/grub");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo]))
        {
            mkfifo.WaitForExit();
        }

        var e = Assert.Throws<PciPassthroughException>(() => ConfigFiles.Plan(root, "/etc/default/grub", t => t ?? ""));
        Assert.Equal(ErrorIds.ConfigWriteFailed, e.ErrorId);
        Assert.Contains("FIFO", e.Message);
    }

    [Fact]
    public void A_held_configuration_lock_makes_a_second_writer_wait_and_then_give_up_with_its_own_error()
    {
        using var host = new FakeHost();
        var root = new HostRoot(host.Root);
        using (ConfigurationLock.Acquire(root, TimeSpan.Zero, CancellationToken.None))
        {
            var e = Assert.Throws<PciPassthroughException>(() => ConfigurationLock.Acquire(root, TimeSpan.Zero, CancellationToken.None));
            Assert.Equal(ErrorIds.ConfigurationLockTimeout, e.ErrorId);
        }

        ConfigurationLock.Acquire(root, TimeSpan.Zero, CancellationToken.None).Dispose();
    }

    [Fact]
    public void A_folder_lock_serializes_writers_of_one_pci_conf()
    {
        using var host = new FakeHost();
        var conf = host.WriteFile("var/lib/one/pci.conf", ":filter: '0:0'\n");
        using (ConfigurationLock.AcquireFolder(conf, TimeSpan.Zero, CancellationToken.None))
        {
            var e = Assert.Throws<PciPassthroughException>(() => ConfigurationLock.AcquireFolder(conf, TimeSpan.Zero, CancellationToken.None));
            Assert.Equal(ErrorIds.ConfigurationLockTimeout, e.ErrorId);
        }

        ConfigurationLock.AcquireFolder(conf, TimeSpan.Zero, CancellationToken.None)!.Dispose();
    }

    [Theory]
    [InlineData(BindingLock.HostPath)]
    [InlineData(ConfigurationLock.HostPath)]
    public void A_lock_file_another_user_owns_or_others_may_write_is_refused(string hostPath)
    {
        using var host = new FakeHost();
        var root = new HostRoot(host.Root);
        var path = host.WriteFile(hostPath.TrimStart('/'), "");
        Assert.Equal(0, chown(path, 1234, 1234));
        var e = Assert.Throws<PciPassthroughException>(() => Take(root, hostPath));
        Assert.Equal(ErrorIds.LockFileNotTrusted, e.ErrorId);
        Assert.Contains("uid 1234", e.Message);

        Assert.Equal(0, chown(path, 0, 0));
        File.SetUnixFileMode(path, (UnixFileMode)0b110_110_110);
        Assert.Equal(ErrorIds.LockFileNotTrusted, Assert.Throws<PciPassthroughException>(() => Take(root, hostPath)).ErrorId);

        File.SetUnixFileMode(path, (UnixFileMode)0b110_100_100);
        Take(root, hostPath).Dispose();
    }

    private static IDisposable Take(HostRoot root, string hostPath) => hostPath == BindingLock.HostPath
        ? BindingLock.Acquire(root, TimeSpan.Zero, CancellationToken.None)
        : ConfigurationLock.Acquire(root, TimeSpan.Zero, CancellationToken.None);

    private static string[] Names(FakeHost host, string dir) =>
        Directory.EnumerateFileSystemEntries(Path.Combine(host.Root, dir)).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true, CharSet = System.Runtime.InteropServices.CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int chown(string path, int owner, int group);
}
