using PciPassthrough.OpenNebula;

namespace PciPassthrough;

/// <summary>Host configuration files and pci.conf.</summary>
public static partial class ErrorCatalog
{
    /// <summary>A configuration file the module must edit does not parse; nothing was written.</summary>
    public static PciPassthroughException ConfigFileInvalid(string path, string why, string fix) => new(
        ErrorIds.ConfigFileInvalid, FailureKind.InvalidArgument,
        $"{path}: {why}.",
        $"{fix}; nothing was written.",
        path);

    public static PciPassthroughException ConfigReadFailed(string hostPath, Exception e) => new(
        ErrorIds.ConfigWriteFailed, FailureKind.ReadError,
        $"Cannot read {hostPath}: {e.Message}",
        "Run as root; nothing was changed.",
        hostPath, e);

    public static PciPassthroughException ConfigDirectoryMissing(string hostPath, string? missingDirectory) => new(
        ErrorIds.ConfigWriteFailed, FailureKind.WriteError,
        $"Cannot write {hostPath}: {missingDirectory} does not exist.",
        "Install the package that owns that directory, or skip that part; nothing was written.",
        hostPath);

    public static PciPassthroughException ConfigDirectoryReadOnly(string hostPath) => new(
        ErrorIds.ConfigWriteFailed, FailureKind.PermissionDenied,
        $"Cannot write {hostPath}: its directory is read-only for this user.",
        "Run as root on a writable /etc; nothing was written.",
        hostPath);

    public static PciPassthroughException ConfigWriteFailed(string hostPath, Exception e) => new(
        ErrorIds.ConfigWriteFailed, FailureKind.WriteError,
        $"Cannot write {hostPath}: {e.Message}",
        "Run as root on a writable /etc; the file was left as it was.",
        hostPath, e);

    public static PciPassthroughException ProbeFolderMissing(string displayPath, string folder, string fullPath) => new(
        ErrorIds.ConfigWriteFailed, FailureKind.WriteError,
        $"Cannot write {displayPath}: its folder {folder} does not exist.",
        "Check -Root or -Path: on an OpenNebula front-end the folder is /var/lib/one/remotes/etc/im/kvm-probes.d; create it only if you mean to.",
        fullPath);

    public static PciPassthroughException FollowUpCommandFailed(string command, int exitCode, string output) => new(
        ErrorIds.ConfigWriteFailed, FailureKind.InvalidOperation,
        $"'{command}' failed ({exitCode}): {output.Trim()}",
        "Run it by hand and read its message; the files are written.",
        command);

    public static PciPassthroughException InvalidBlacklistDriver(IReadOnlyCollection<string> refused) => new(
        ErrorIds.InvalidBlacklistDriver, FailureKind.InvalidArgument,
        $"Refusing to blacklist {string.Join(", ", refused)}: vfio-pci needs it, and no device could be passed through after the next boot.",
        "Blacklist the host driver of the device (nouveau, amdgpu, ixgbe, ...), never vfio or kvm modules.",
        refused.ToArray());

    public static PciPassthroughException ConfigurationInputRejected(IReadOnlyCollection<string> rejected) => new(
        ErrorIds.ConfigurationInputRejected, FailureKind.InvalidArgument,
        $"Nothing was written: {rejected.Count} address(es) were rejected ({string.Join(", ", rejected)}), and the configuration lists every boot-bound device at once.",
        "Correct the rejected addresses (see the errors above) and run the command again with the full list.",
        rejected.ToArray());

    public static PciPassthroughException ProbeFilterInvalid(string path, string detail, Exception? inner) => new(
        ErrorIds.ProbeFilterInvalid, FailureKind.InvalidArgument,
        $"{path} is not valid pci.conf YAML: {detail}.",
        "Fix the file (keys are written with a leading colon, e.g. :filter: '10de:*'); nothing was changed.",
        path, inner);

    /// <summary>pci.rb's own words for an unreadable pci.conf ("Invalid configuration &lt;path&gt;").</summary>
    public static PciPassthroughException ProbeFilterUnreadable(string fullPath, Exception e) => new(
        ErrorIds.ProbeFilterUnreadable, FailureKind.ReadError,
        $"Invalid configuration {fullPath}: {e.Message}",
        "Give the pci.conf path with -Path, or create it with Set-PciProbeFilter.",
        fullPath, e);

    /// <summary>
    /// A pci.conf value pci.rb cannot use (nil, or one string where it calls a list's method): the probe stops at
    /// the first device that reaches the key's rule. <paramref name="device"/> is that device; null when a write
    /// is refused because the file would keep the value.
    /// </summary>
    public static PciPassthroughException ProbeFilterValueUnusable(string? path, string key, string? device)
    {
        var (parameter, remedy) = key switch
        {
            PciProbeFilter.ShortAddressKey => ("-ShortAddress", "[] for no address filter, or a list of lspci slots"),
            PciProbeFilter.DeviceNameKey => ("-DeviceName", "a list: [] for no name filter, or [ 'pattern' ]"),
            PciProbeFilter.FilterKey => ("-Filter", "lspci -d filters without empty entries, e.g. '10de:*'"),
            _ => ("-NvidiaVendors", "a list, e.g. OpenNebula's default [ '10de' ]"),
        };
        var file = path ?? "pci.conf";
        var why = key switch
        {
            PciProbeFilter.DeviceNameKey => "empty, ~ and null are Ruby's nil, and one string is not a list",
            PciProbeFilter.FilterKey => "an empty list entry is Ruby's nil, which pci.rb cannot split, so it stops before reading any device",
            _ => "empty, ~ and null are Ruby's nil",
        };
        return new(
            ErrorIds.ProbeFilterValueUnusable, FailureKind.InvalidArgument,
            device is null
                ? $"{file}: {key}: has no value OpenNebula's probe can use ({why}); a file that keeps it makes the probe fail on every node."
                : $"{file}: {key}: has no value OpenNebula's probe can use ({why}): pci.rb stops with NoMethodError at {device}, the first device that reaches this rule, and reports nothing.",
            $"Write {key}: as {remedy} (Set-PciProbeFilter {parameter} ...); nothing was changed.",
            path);
    }
}
