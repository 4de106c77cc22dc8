using System.Reflection;
using System.Runtime.Loader;
using PciPassthrough.OpenNebula;

namespace PciPassthrough.PowerShell.Common;

/// <summary>
/// Loads the module's third-party dependencies (YamlDotNet, through PciPassthrough.Yaml) from its deps/
/// folder in a context of their own, so another module's YamlDotNet (powershell-yaml, PlatyPS) never
/// collides with ours ("Assembly with same name is already loaded"). Anything not in deps/ (the core,
/// the engine) resolves from the default context, so the interfaces the core defines are shared.
/// </summary>
internal sealed class DependencyLoadContext : AssemblyLoadContext
{
    private static readonly Lazy<DependencyLoadContext> Instance = new(() => new DependencyLoadContext(
        Path.Combine(Path.GetDirectoryName(typeof(DependencyLoadContext).Assembly.Location)!, "deps")));

    private static readonly Lazy<IProbeFilterFormat> ProbeFilters = new(() =>
    {
        var assembly = Instance.Value.LoadFromAssemblyName(new AssemblyName("PciPassthrough.Yaml"));
        return (IProbeFilterFormat)Activator.CreateInstance(assembly.GetType("PciPassthrough.Yaml.ProbeFilterYaml", throwOnError: true)!)!;
    });

    private readonly string _directory;

    private DependencyLoadContext(string directory)
        : base("PciPassthrough.Dependencies")
    {
        _directory = directory;
    }

    /// <summary>The pci.conf reader and writer, from the isolated context.</summary>
    public static IProbeFilterFormat ProbeFilterFormat => ProbeFilters.Value;

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var path = Path.Combine(_directory, assemblyName.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }
}
