namespace PciPassthrough.OpenNebula;

/// <summary>
/// Reads and writes pci.conf. Implemented by PciPassthrough.Yaml, which the module loads in its own
/// AssemblyLoadContext so that its YamlDotNet never meets another module's (powershell-yaml, PlatyPS).
/// </summary>
public interface IProbeFilterFormat
{
    /// <summary>Parses pci.conf text; missing keys take OpenNebula's defaults. Throws InvalidProbeFilterFile with line and column.</summary>
    PciProbeFilter Parse(string text, string path);

    /// <summary>Whether the text holds any setting; Ruby reads a file without one (empty, comments, "---") as nil, which pci.rb refuses.</summary>
    bool HoldsSettings(string text, string path);

    /// <summary>The file with the filter's four keys set: every other key, comment and line of <paramref name="original"/> kept.</summary>
    string Render(PciProbeFilter filter, string? original, string path);
}
