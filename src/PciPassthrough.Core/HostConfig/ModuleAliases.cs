using PciPassthrough.HostFs;

namespace PciPassthrough.HostConfig;

/// <summary>
/// Which kernel modules would claim a device at boot: its <c>modalias</c> matched against the glob
/// patterns of <c>lib/modules/&lt;release&gt;/modules.alias</c>, as udev and modprobe match them.
/// </summary>
public sealed class ModuleAliases
{
    private readonly List<(string Pattern, string Module)> _pci = [];

    private ModuleAliases()
    {
    }

    public static ModuleAliases Read(HostRoot root, string? release)
    {
        var aliases = new ModuleAliases();
        if (release is null)
        {
            return aliases;
        }

        foreach (var line in (root.TryReadText($"/lib/modules/{release}/modules.alias") ?? "").Split('\n'))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 3 && f[0] == "alias" && f[1].StartsWith("pci:", StringComparison.Ordinal))
            {
                aliases._pci.Add((f[1], f[2]));
            }
        }

        return aliases;
    }

    /// <summary>The modules whose aliases match the device's modalias, vfio-pci excepted (it matches by override).</summary>
    public IReadOnlyList<string> ModulesFor(string? modalias)
    {
        if (string.IsNullOrEmpty(modalias))
        {
            return [];
        }

        return _pci.Where(a => a.Module != "vfio_pci" && GlobMatch(a.Pattern, modalias)).Select(a => a.Module).Distinct().ToList();
    }

    // fnmatch with '*' and '?' (the only wildcards modules.alias uses for PCI), iterative with backtracking.
    internal static bool GlobMatch(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || char.ToUpperInvariant(pattern[p]) == char.ToUpperInvariant(text[t])))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
