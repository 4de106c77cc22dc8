using PciPassthrough.HostFs;
using PciPassthrough.Iommu;

namespace PciPassthrough.Topology;

/// <summary>
/// The kernel parameters that change how ACS is seen: the out-of-tree <c>pcie_acs_override=</c> (hides
/// missing isolation) and mainline <c>pci=config_acs=</c> / <c>pci=disable_acs_redir=</c>. The module reports
/// them and never writes them.
/// </summary>
public static class AcsOverrideParameters
{
    /// <summary>The words of /proc/cmdline that override ACS; empty when none (or the file is unreadable).</summary>
    public static IReadOnlyList<string> Find(HostRoot root)
    {
        var cmdline = root.TryReadText("/proc/cmdline");
        if (cmdline is null)
        {
            return [];
        }

        return cmdline.Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries)
            .Where(w => w.StartsWith("pcie_acs_override=", StringComparison.Ordinal)
                || (w.StartsWith("pci=", StringComparison.Ordinal) && w[4..].Split(',').Any(o => o.StartsWith("config_acs=", StringComparison.Ordinal) || o.StartsWith("disable_acs_redir=", StringComparison.Ordinal))))
            .ToList();
    }

    /// <summary>The warning for the words <see cref="Find"/> returned, or null when there are none.</summary>
    public static string? Warning(IReadOnlyList<string> words) => words.Count == 0
        ? null
        : $"The kernel command line holds {string.Join(" ", words)}: IOMMU groups may not reflect real isolation (pcie_acs_override only hides missing ACS; pci=config_acs= and pci=disable_acs_redir= turn ACS off on ports and merge groups). The module reports these parameters and never writes them.";

    /// <summary>The AcsOverride check of Test-IommuSupport and Test-PciPassthroughReadiness, or null when no word is on the command line.</summary>
    public static ReadinessCheck? Check(HostRoot root)
    {
        var words = Find(root);
        return words.Count == 0
            ? null
            : new("AcsOverride", CheckStatus.Warning, Warning(words)!, "Remove the parameter from the kernel command line unless the risk is accepted: groups formed under it do not prove isolation.");
    }
}
