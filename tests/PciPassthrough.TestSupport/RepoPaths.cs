namespace PciPassthrough.TestSupport;

/// <summary>Where the repository and the built module are, found from the test's own location.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The built module's manifest; PCIPASSTHROUGH_MODULE overrides it (a folder or a .psd1).</summary>
    public static string ModuleManifest
    {
        get
        {
            var overridden = Environment.GetEnvironmentVariable("PCIPASSTHROUGH_MODULE");
            if (!string.IsNullOrEmpty(overridden))
            {
                return overridden.EndsWith(".psd1", StringComparison.OrdinalIgnoreCase) ? overridden : Path.Combine(overridden, "PciPassthrough.psd1");
            }

            return Path.Combine(Root, "out", "PciPassthrough", "PciPassthrough.psd1");
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PciPassthrough.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("PciPassthrough.sln not found above " + AppContext.BaseDirectory);
    }
}
