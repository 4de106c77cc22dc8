using PciPassthrough.HostFs;

namespace PciPassthrough.Ids;

/// <summary>
/// Whether a host has udev's hardware database. Why it matters: Debian's lspci asks hwdb for a name pci.ids lacks,
/// and hwdb's pattern for a device (<c>pci:v…d…*</c>) also matches that device's unknown subsystems, so on such a
/// host lspci names an unknown subsystem after its device. The module reads pci.ids only (hwdb.bin is a binary trie
/// built from pci.ids), and follows that one visible consequence.
/// </summary>
internal static class UdevHwdb
{
    /// <summary>Where libudev looks for hwdb.bin (systemd's hwdb_bin_paths), as host paths.</summary>
    public static readonly IReadOnlyList<string> Paths =
        ["/etc/systemd/hwdb/hwdb.bin", "/etc/udev/hwdb.bin", "/usr/lib/systemd/hwdb/hwdb.bin", "/usr/lib/udev/hwdb.bin"];

    /// <summary>True when the root holds a hwdb.bin (a file or a link to one; a dangling link is none).</summary>
    public static bool IsPresent(HostRoot root) => Paths.Any(p => File.Exists(root.Resolve(p)));
}
