using PciPassthrough.HostFs;
using PciPassthrough.Iommu;

namespace PciPassthrough.HostConfig;

/// <summary>
/// The one list of drivers the module blacklists. modprobe.d (its own file) and the kernel command line
/// (<c>rd.driver.blacklist=</c>) are both written from it, so they cannot disagree: a run adds to what
/// earlier runs blacklisted, and only an explicit removal takes a driver off.
/// </summary>
public static class DriverBlacklist
{
    /// <summary>vfio itself and what it stands on: blacklisting one of them makes passthrough impossible.</summary>
    public static readonly IReadOnlySet<string> VfioNeeds = new HashSet<string>(StringComparer.Ordinal)
    {
        "vfio", "vfio_pci", "vfio_pci_core", "vfio_iommu_type1", "vfio_virqfd", "vfio_iommufd", "iommufd", "irqbypass", "kvm", "kvm_intel", "kvm_amd",
    };

    /// <summary>The drivers the module's blacklist file names now, in its order.</summary>
    public static IReadOnlyList<string> Current(HostRoot root) =>
        (root.TryReadText(ModprobeFiles.BlacklistPath) ?? "").Split('\n')
            .Select(l => l.Split('#')[0].Split(' ', '\t', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length == 2 && f[0] == "blacklist" && f[1] != "lbm-nouveau")
            .Select(f => f[1])
            .Distinct(StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// What the list becomes: the current one, plus <paramref name="add"/>, less <paramref name="remove"/>.
    /// Refuses a driver that vfio needs (InvalidBlacklistDriver) before anything is planned.
    /// </summary>
    public static IReadOnlyList<string> Merge(IReadOnlyList<string> current, IReadOnlyList<string> add, IReadOnlyList<string> remove)
    {
        var refused = add.Where(d => VfioNeeds.Contains(KernelModules.Normalize(d))).ToList();
        if (refused.Count > 0)
        {
            throw ErrorCatalog.InvalidBlacklistDriver(refused);
        }

        var removed = remove.Select(KernelModules.Normalize).ToHashSet(StringComparer.Ordinal);
        return current.Concat(add)
            .Where(d => !removed.Contains(KernelModules.Normalize(d)))
            .DistinctBy(KernelModules.Normalize)
            .ToList();
    }
}
