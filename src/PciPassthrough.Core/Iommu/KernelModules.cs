namespace PciPassthrough.Iommu;

/// <summary>
/// What the running kernel can load: <c>/sys/module</c> (loaded), and <c>modules.builtin</c> and
/// <c>modules.dep</c> under <c>lib/modules/&lt;release&gt;</c>. Module names compare with '-' and '_' alike.
/// </summary>
internal sealed class KernelModules
{
    private readonly HostFs.HostRoot _root;
    private readonly HashSet<string> _builtin;
    private readonly HashSet<string> _available;

    public KernelModules(HostFs.HostRoot root, string? release)
    {
        _root = root;
        Release = release;
        HasModuleTree = release is not null && Directory.Exists(root.Resolve($"/lib/modules/{release}"));
        _builtin = ModuleNames(release is null ? null : root.TryReadText($"/lib/modules/{release}/modules.builtin"), depFormat: false);
        _available = ModuleNames(release is null ? null : root.TryReadText($"/lib/modules/{release}/modules.dep"), depFormat: true);
    }

    public string? Release { get; }

    /// <summary>False when <c>lib/modules/&lt;release&gt;</c> does not exist (modules of another kernel, or none).</summary>
    public bool HasModuleTree { get; }

    public static string Normalize(string name) => name.Replace('-', '_');

    public bool IsLoaded(string name) => Directory.Exists(_root.Resolve("/sys/module/" + Normalize(name)));

    public bool IsBuiltin(string name) => _builtin.Contains(Normalize(name));

    /// <summary>True when modprobe could load it: listed in modules.dep.</summary>
    public bool IsAvailable(string name) => _available.Contains(Normalize(name));

    /// <summary>True when the kernel has the module in any form.</summary>
    public bool Exists(string name) => IsLoaded(name) || IsBuiltin(name) || IsAvailable(name);

    // modules.dep: "kernel/drivers/vfio/pci/vfio-pci.ko.xz: kernel/drivers/vfio/vfio.ko.xz ..."
    // modules.builtin: "kernel/drivers/vfio/vfio.ko"
    private static HashSet<string> ModuleNames(string? text, bool depFormat)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in (text ?? "").Split('\n'))
        {
            var path = depFormat ? raw.Split(':')[0] : raw;
            var file = Path.GetFileName(path.Trim());
            var ko = file.IndexOf(".ko", StringComparison.Ordinal);
            if (ko > 0)
            {
                names.Add(Normalize(file[..ko]));
            }
        }

        return names;
    }
}
