namespace PciPassthrough.HostConfig.Boot;

/// <summary>Where a host keeps the kernel command line its boot loader passes on.</summary>
public enum BootLoaderKind
{
    /// <summary>Detect it from the host's files.</summary>
    Auto,

    /// <summary>GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub or grub2-mkconfig.</summary>
    Grub,

    /// <summary>/etc/kernel/cmdline, read by kernel-install (systemd-boot, UKIs), then kernel-install.</summary>
    SystemdBoot,

    /// <summary>/etc/kernel/cmdline on Proxmox VE hosts booted by systemd-boot, then proxmox-boot-tool refresh.</summary>
    ProxmoxBootTool,

    /// <summary>user.kernel_options in /etc/kernelstub/configuration (Pop!_OS), then kernelstub.</summary>
    Kernelstub,
}
