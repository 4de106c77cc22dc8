using PciPassthrough.HostFs;
using PciPassthrough.Iommu;

namespace PciPassthrough.HostConfig;

/// <summary>
/// What modprobe and the kernel command line say about module loading: blacklists, softdeps and
/// <c>vfio-pci ids=</c>. Read from every modprobe.d directory modprobe itself reads.
/// </summary>
public sealed class ModprobeConfiguration
{
    public static readonly IReadOnlyList<string> Directories = ["/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d", "/lib/modprobe.d", "/usr/lib/modprobe.d"];

    private readonly HashSet<string> _blacklisted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _softdepPre = new(StringComparer.Ordinal);
    private readonly List<string> _vfioIds = [];

    /// <summary>Modules blacklisted in modprobe.d or on the command line (names normalized to '_').</summary>
    public IReadOnlySet<string> Blacklisted => _blacklisted;

    /// <summary>vendor:device entries given to vfio-pci (options vfio-pci ids= or vfio-pci.ids=).</summary>
    public IReadOnlyList<string> VfioPciIds => _vfioIds;

    public static ModprobeConfiguration Read(HostRoot root)
    {
        var config = new ModprobeConfiguration();
        foreach (var dir in Directories)
        {
            foreach (var file in root.ListNames(dir).Where(f => f.EndsWith(".conf", StringComparison.Ordinal)))
            {
                config.ParseFile(root.TryReadText($"{dir}/{file}") ?? "");
            }
        }

        var args = IommuSupportInspector.ParseCommandLine(root.TryReadText("/proc/cmdline"));
        foreach (var key in new[] { "modprobe.blacklist", "module_blacklist", "rd.driver.blacklist" })
        {
            foreach (var m in args.GetValueOrDefault(key, "").Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                config._blacklisted.Add(KernelModules.Normalize(m));
            }
        }

        foreach (var key in new[] { "vfio-pci.ids", "vfio_pci.ids" })
        {
            config._vfioIds.AddRange(args.GetValueOrDefault(key, "").Split(',', StringSplitOptions.RemoveEmptyEntries));
        }

        return config;
    }

    /// <summary>True when modprobe loads vfio-pci before this module (softdep M pre: vfio-pci).</summary>
    public bool LoadsVfioBefore(string module) =>
        _softdepPre.TryGetValue(KernelModules.Normalize(module), out var pre) && pre.Contains("vfio_pci");

    /// <summary>True when vfio-pci is told to claim this vendor:device.</summary>
    public bool VfioClaims(string? vendorId, string? deviceId) =>
        vendorId is not null && deviceId is not null
        && _vfioIds.Any(id => id.StartsWith($"{vendorId}:{deviceId}", StringComparison.OrdinalIgnoreCase));

    private void ParseFile(string text)
    {
        foreach (var raw in text.Replace("\\\n", " ", StringComparison.Ordinal).Split('\n'))
        {
            var line = raw.Split('#')[0];
            var words = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length < 2)
            {
                continue;
            }

            var module = KernelModules.Normalize(words[1]);
            switch (words[0])
            {
                case "blacklist":
                    _blacklisted.Add(module);
                    break;
                case "install" when words.Length > 2 && words[2] is "/bin/false" or "/bin/true" or "/usr/bin/false":
                    _blacklisted.Add(module); // the common "install nouveau /bin/false" idiom
                    break;
                case "softdep":
                    var pre = false;
                    foreach (var w in words.Skip(2))
                    {
                        if (w.EndsWith(':'))
                        {
                            pre = w == "pre:";
                        }
                        else if (pre)
                        {
                            (_softdepPre.TryGetValue(module, out var set) ? set : _softdepPre[module] = new(StringComparer.Ordinal)).Add(KernelModules.Normalize(w));
                        }
                    }

                    break;
                case "options" when module == "vfio_pci":
                    foreach (var option in words.Skip(2).Where(o => o.StartsWith("ids=", StringComparison.Ordinal)))
                    {
                        _vfioIds.AddRange(option[4..].Split(',', StringSplitOptions.RemoveEmptyEntries));
                    }

                    break;
            }
        }
    }
}
