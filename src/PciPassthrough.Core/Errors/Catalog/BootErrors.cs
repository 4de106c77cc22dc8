namespace PciPassthrough;

/// <summary>Boot loaders and the kernel command line.</summary>
public static partial class ErrorCatalog
{
    public static PciPassthroughException KernelCommandLineUnknown(string path, string why) => new(
        ErrorIds.KernelCommandLineUnknown,
        FailureKind.InvalidOperation,
        $"{path} does not exist, and the running command line cannot seed it: {why}. Writing it with only the VFIO arguments would boot the next kernel without root=.",
        $"Create {path} by hand with the host's full command line (root=..., as in /proc/cmdline without BOOT_IMAGE= and initrd=), then run the command again.",
        path);
}
