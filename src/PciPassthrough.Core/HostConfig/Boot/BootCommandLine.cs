using PciPassthrough.HostFs;

namespace PciPassthrough.HostConfig.Boot;

/// <summary>
/// The kernel command line the host's boot loader will pass at the next boot: which file holds it,
/// its arguments, the file with arguments merged in, and the command that carries the file into the
/// boot entries. One entry point for every loader, so the configurator, the reader and the drift
/// check never need to know which one a host uses.
/// </summary>
public static class BootCommandLine
{
    private const string ProxmoxBootUuids = "/etc/kernel/proxmox-boot-uuids";

    private static readonly string[] SystemdBootLoaderConfs = ["/boot/efi/loader/loader.conf", "/efi/loader/loader.conf", "/boot/loader/loader.conf"];

    /// <summary>
    /// The loader from the host's files. Proxmox VE marks the ESPs proxmox-boot-tool manages; a host
    /// with both /etc/default/grub and /etc/kernel/cmdline (Fedora may have both) boots by GRUB unless
    /// systemd-boot's loader.conf is on an ESP.
    /// </summary>
    public static BootLoaderKind Detect(HostRoot root) =>
        root.Exists(ProxmoxBootUuids) && root.Exists(KernelCmdlineFile.Path) ? BootLoaderKind.ProxmoxBootTool
        : root.Exists(KernelstubConfiguration.Path) ? BootLoaderKind.Kernelstub
        : SystemdBootLoaderConfs.Any(root.Exists) ? BootLoaderKind.SystemdBoot
        : root.Exists(KernelCmdlineFile.Path) && !root.Exists(GrubCommandLine.Path) ? BootLoaderKind.SystemdBoot
        : BootLoaderKind.Grub;

    public static BootLoaderKind Resolve(HostRoot root, BootLoaderKind kind) => kind == BootLoaderKind.Auto ? Detect(root) : kind;

    public static string PathOf(BootLoaderKind kind) => kind switch
    {
        BootLoaderKind.SystemdBoot or BootLoaderKind.ProxmoxBootTool => KernelCmdlineFile.Path,
        BootLoaderKind.Kernelstub => KernelstubConfiguration.Path,
        _ => GrubCommandLine.Path,
    };

    /// <summary>The configured arguments; throws ConfigFileInvalid when the file does not parse.</summary>
    public static IReadOnlyList<string> Arguments(BootLoaderKind kind, string? text) => kind switch
    {
        BootLoaderKind.SystemdBoot or BootLoaderKind.ProxmoxBootTool => KernelCmdlineFile.Arguments(text),
        BootLoaderKind.Kernelstub => KernelstubConfiguration.Arguments(text),
        _ => GrubCommandLine.Arguments(text),
    };

    public static string Apply(BootLoaderKind kind, HostRoot root, string? text, IReadOnlyList<string> wanted, IReadOnlyCollection<string>? removedItems) => kind switch
    {
        BootLoaderKind.SystemdBoot or BootLoaderKind.ProxmoxBootTool => KernelCmdlineFile.Apply(root, text, wanted, removedItems),
        BootLoaderKind.Kernelstub => KernelstubConfiguration.Apply(text, wanted, removedItems),
        _ => GrubCommandLine.Apply(text, wanted, removedItems),
    };

    /// <summary>The command that puts the changed file into the boot entries.</summary>
    public static string RegenerateCommand(BootLoaderKind kind, HostRoot root) => kind switch
    {
        BootLoaderKind.ProxmoxBootTool => "proxmox-boot-tool refresh",
        // kernel-install wants the image path: /lib/modules/<release>/vmlinuz (Fedora, Arch) or /boot/vmlinuz-<release> (Debian).
        BootLoaderKind.SystemdBoot => "kernel-install add \"$(uname -r)\" \"$(ls /lib/modules/$(uname -r)/vmlinuz /boot/vmlinuz-$(uname -r) 2>/dev/null | head -n 1)\"",
        BootLoaderKind.Kernelstub => "kernelstub",
        _ => GrubCommandLine.RegenerateCommand(root),
    };

    /// <summary>The regenerate command for a changed file path, or null when the path is no boot loader's.</summary>
    public static string? RegenerateCommandFor(HostRoot root, string path) =>
        path == GrubCommandLine.Path ? RegenerateCommand(BootLoaderKind.Grub, root)
        : path == KernelstubConfiguration.Path ? RegenerateCommand(BootLoaderKind.Kernelstub, root)
        : path == KernelCmdlineFile.Path ? RegenerateCommand(root.Exists(ProxmoxBootUuids) ? BootLoaderKind.ProxmoxBootTool : BootLoaderKind.SystemdBoot, root)
        : null;
}
