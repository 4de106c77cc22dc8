using PciPassthrough.HostConfig;
using PciPassthrough.HostConfig.Boot;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Iommu;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// Hosts that do not boot by GRUB: systemd-boot and UKIs (kernel-install reads /etc/kernel/cmdline),
/// Proxmox VE's proxmox-boot-tool (the same file), and Pop!_OS's kernelstub (a JSON list).
/// </summary>
public class BootLoaderTests
{
    private const string Running = "BOOT_IMAGE=/vmlinuz-6.1.0-56-amd64 root=UUID=0b5c1d9e ro initrd=\\initrd.img quiet\n";

    private static HostRoot RootOf(FakeHost host) => new(host.Root);

    [Theory]
    [InlineData(new[] { "etc/default/grub" }, BootLoaderKind.Grub)]
    [InlineData(new string[0], BootLoaderKind.Grub)]
    [InlineData(new[] { "etc/kernel/cmdline" }, BootLoaderKind.SystemdBoot)]
    [InlineData(new[] { "etc/kernel/cmdline", "etc/default/grub" }, BootLoaderKind.Grub)]
    [InlineData(new[] { "etc/default/grub", "boot/efi/loader/loader.conf" }, BootLoaderKind.SystemdBoot)]
    [InlineData(new[] { "efi/loader/loader.conf" }, BootLoaderKind.SystemdBoot)]
    [InlineData(new[] { "etc/kernel/cmdline", "etc/kernel/proxmox-boot-uuids", "etc/default/grub" }, BootLoaderKind.ProxmoxBootTool)]
    [InlineData(new[] { "etc/kernel/proxmox-boot-uuids", "etc/default/grub" }, BootLoaderKind.Grub)]
    [InlineData(new[] { "etc/kernelstub/configuration", "etc/default/grub" }, BootLoaderKind.Kernelstub)]
    public void The_boot_loader_is_told_by_the_hosts_files(string[] files, BootLoaderKind expected)
    {
        using var host = new FakeHost();
        foreach (var f in files)
        {
            host.WriteFile(f, "x\n");
        }

        Assert.Equal(expected, BootCommandLine.Detect(RootOf(host)));
    }

    [Fact]
    public void Kernel_cmdline_gains_arguments_keeps_the_rest_and_is_idempotent()
    {
        using var host = new FakeHost();
        var text = "root=ZFS=rpool/ROOT/pve-1 boot=zfs intel_iommu=sm_on rd.driver.blacklist=nouveau\n";
        var once = KernelCmdlineFile.Apply(RootOf(host), text, ["intel_iommu=on", "iommu=pt", "rd.driver.blacklist=radeon"], null);
        Assert.Equal("root=ZFS=rpool/ROOT/pve-1 boot=zfs intel_iommu=on,sm_on rd.driver.blacklist=nouveau,radeon iommu=pt\n", once);
        Assert.Equal(once, KernelCmdlineFile.Apply(RootOf(host), once, ["intel_iommu=on", "iommu=pt", "rd.driver.blacklist=radeon"], null));
        Assert.Equal("root=ZFS=rpool/ROOT/pve-1 boot=zfs intel_iommu=on,sm_on iommu=pt\n", KernelCmdlineFile.Apply(RootOf(host), once, [], ["nouveau", "radeon"]));
    }

    [Fact]
    public void Kernel_cmdline_reads_words_across_lines_and_keeps_quoted_values_whole()
    {
        Assert.Equal(["root=/dev/sda2", "ro", "dyndbg=\"module vfio_pci +p\"", "quiet"], KernelCmdlineFile.Arguments("root=/dev/sda2 ro\n  dyndbg=\"module vfio_pci +p\"\tquiet\n"));
        var e = Assert.Throws<PciPassthroughException>(() => KernelCmdlineFile.Arguments("root=/dev/sda2 dyndbg=\"module\n"));
        Assert.Equal(ErrorIds.ConfigFileInvalid, e.ErrorId);
        Assert.Contains("nothing was written", e.RecommendedAction);
    }

    [Fact]
    public void A_missing_kernel_cmdline_starts_from_the_running_one_without_what_the_loader_adds()
    {
        using var host = new FakeHost();
        host.WriteFile("proc/cmdline", Running);
        Assert.Equal("root=UUID=0b5c1d9e ro quiet intel_iommu=on\n", KernelCmdlineFile.Apply(RootOf(host), null, ["intel_iommu=on"], null));
    }

    [Theory]
    [InlineData(null, "cannot be read")]
    [InlineData("BOOT_IMAGE=/vmlinuz ro quiet\n", "has no root=")]
    public void A_missing_kernel_cmdline_is_never_written_without_root(string? running, string why)
    {
        using var host = new FakeHost();
        if (running is not null)
        {
            host.WriteFile("proc/cmdline", running);
        }

        var e = Assert.Throws<PciPassthroughException>(() => KernelCmdlineFile.Apply(RootOf(host), null, ["intel_iommu=on"], null));
        Assert.Equal(ErrorIds.KernelCommandLineUnknown, e.ErrorId);
        Assert.Contains(why, e.Message);
    }

    [Fact]
    public void Kernelstub_changes_only_the_users_kernel_options()
    {
        const string config = """
            {
              "default": { "kernel_options": ["quiet", "splash"], "esp_path": "/boot/efi", "setup_loader": false },
              "user": { "kernel_options": ["quiet", "loglevel=0", "intel_iommu=igfx_off"], "esp_path": "/boot/efi", "manage_mode": true, "live_mode": false }
            }
            """;
        var text = KernelstubConfiguration.Apply(config, ["intel_iommu=on", "iommu=pt"], null);
        Assert.Equal(["quiet", "loglevel=0", "intel_iommu=on,igfx_off", "iommu=pt"], KernelstubConfiguration.Arguments(text));
        var doc = System.Text.Json.Nodes.JsonNode.Parse(text)!;
        Assert.Equal("[\"quiet\",\"splash\"]", doc["default"]!["kernel_options"]!.ToJsonString());
        Assert.True(doc["user"]!["manage_mode"]!.GetValue<bool>());
        Assert.Equal(text, KernelstubConfiguration.Apply(text, ["intel_iommu=on", "iommu=pt"], null));
    }

    [Theory]
    [InlineData("{ \"user\": ")]
    [InlineData("[1, 2]")]
    [InlineData("{ \"user\": { \"kernel_options\": \"quiet splash\" } }")]
    [InlineData("{ \"user\": { \"kernel_options\": [\"quiet\", 3] } }")]
    public void A_kernelstub_file_that_is_not_its_shape_is_refused(string config)
    {
        var e = Assert.Throws<PciPassthroughException>(() => KernelstubConfiguration.Apply(config, ["intel_iommu=on"], null));
        Assert.Equal(ErrorIds.ConfigFileInvalid, e.ErrorId);
        Assert.StartsWith(KernelstubConfiguration.Path, e.Message);
    }

    [Theory]
    [InlineData(BootLoaderKind.SystemdBoot, "etc/kernel/cmdline", "kernel-install add")]
    [InlineData(BootLoaderKind.ProxmoxBootTool, "etc/kernel/cmdline", "proxmox-boot-tool refresh")]
    [InlineData(BootLoaderKind.Kernelstub, "etc/kernelstub/configuration", "kernelstub")]
    [InlineData(BootLoaderKind.Grub, "etc/default/grub", "grub-mkconfig")]
    public void The_configurator_writes_the_loaders_file_and_names_its_regenerate_command(BootLoaderKind kind, string file, string command)
    {
        using var host = new FakeHost().WithHealthyIntelIommu();
        host.WriteFile("proc/cmdline", Running);
        if (kind == BootLoaderKind.ProxmoxBootTool)
        {
            host.WriteFile("etc/kernel/proxmox-boot-uuids", "A1B2-C3D4\n");
            host.WriteFile("etc/kernel/cmdline", "root=ZFS=rpool/ROOT/pve-1 boot=zfs\n");
        }

        var root = RootOf(host);
        var plan = VfioHostConfigurator.Plan(root, new HostConfigurationRequest { BootLoader = kind, IommuPassthrough = true }, new PciDeviceReader(root, PciIdDatabase.Empty));
        var change = Assert.Single(plan, c => c.Path == "/" + file);
        Assert.Contains("intel_iommu=on", change.NewContent);
        Assert.Contains("iommu=pt", change.NewContent);
        Assert.DoesNotContain(plan, c => c.Path != "/" + file && c.Path is GrubCommandLine.Path or KernelCmdlineFile.Path or KernelstubConfiguration.Path);
        Assert.Contains(VfioHostConfigurator.FollowUpCommands(root, plan), c => c.StartsWith(command, StringComparison.Ordinal));
    }

    [Fact]
    public void Drift_reads_the_command_line_of_the_loader_the_host_boots_with()
    {
        using var host = SampleHost.Create().WithHealthyIntelIommu();
        host.WriteFile("etc/kernel/proxmox-boot-uuids", "A1B2-C3D4\n");
        host.WriteFile("etc/kernel/cmdline", "root=ZFS=rpool/ROOT/pve-1 boot=zfs intel_iommu=on iommu=pt rd.driver.blacklist=nouveau\n");
        host.WriteFile("etc/default/grub", "GRUB_CMDLINE_LINUX=\"quiet\"\n");
        host.WriteFile("proc/cmdline", "initrd=\\EFI\\proxmox\\initrd.img root=ZFS=rpool/ROOT/pve-1 boot=zfs intel_iommu=on\n");
        var root = RootOf(host);
        var config = VfioHostConfiguration.Read(root);
        Assert.Equal(BootLoaderKind.ProxmoxBootTool, config.BootLoader);
        Assert.Equal(KernelCmdlineFile.Path, config.BootCommandLinePath);
        Assert.Equal(["quiet"], config.GrubCommandLine);
        var checks = HostConfigurationDrift.Check(root, new PciDeviceReader(root, PciIdDatabase.Empty)).ToDictionary(c => c.Name);
        Assert.Equal(CheckStatus.Warning, checks["KernelCommandLine"].Status);
        Assert.StartsWith("/etc/kernel/cmdline has 'intel_iommu=on iommu=pt rd.driver.blacklist=nouveau'", checks["KernelCommandLine"].Detail);
        Assert.Contains("proxmox-boot-tool refresh", checks["KernelCommandLine"].Remedy);
        Assert.StartsWith("rd.driver.blacklist= names nouveau", checks["BlacklistAgreement"].Detail);
    }
}
