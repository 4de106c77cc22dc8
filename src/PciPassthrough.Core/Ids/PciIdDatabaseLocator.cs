using PciPassthrough.HostFs;

namespace PciPassthrough.Ids;

/// <summary>Finds the pci.ids to name devices with: an explicit file, else the host root's, else this machine's.</summary>
public static class PciIdDatabaseLocator
{
    /// <summary>
    /// Returns the database, or <see cref="PciIdDatabase.Empty"/> when no file exists anywhere (names then
    /// read as lspci prints unknown ids). An explicit path that cannot be read is an error, never a fallback.
    /// </summary>
    public static PciIdDatabase Locate(HostRoot root, string? explicitPath)
    {
        if (!string.IsNullOrEmpty(explicitPath))
        {
            return PciIdDatabase.Load(explicitPath);
        }

        var candidates = PciIdDatabase.WellKnownPaths.Select(root.Resolve)
            .Concat(root.IsLiveHost ? [] : PciIdDatabase.WellKnownPaths);
        foreach (var candidate in candidates)
        {
            // A dangling link (a captured tree without the file it names) is as good as missing (D21).
            if (File.Exists(candidate) && Resolves(candidate))
            {
                return PciIdDatabase.Load(candidate);
            }
        }

        return PciIdDatabase.Empty;
    }

    private static bool Resolves(string path)
    {
        try
        {
            return File.ResolveLinkTarget(path, returnFinalTarget: true) is not { } target || target.Exists;
        }
        catch (IOException)
        {
            return true; // a link loop: Load names the file and the cause
        }
    }
}
