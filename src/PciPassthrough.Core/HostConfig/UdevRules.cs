using PciPassthrough.HostFs;

namespace PciPassthrough.HostConfig;

/// <summary>The udev rules a host has, and what they say about <c>/dev/vfio</c> ownership.</summary>
internal static class UdevRules
{
    public static readonly IReadOnlyList<string> Directories = ["/etc/udev/rules.d", "/run/udev/rules.d", "/lib/udev/rules.d", "/usr/lib/udev/rules.d"];

    /// <summary>Every rule line (comments dropped), with the file it is in.</summary>
    public static IEnumerable<(string File, string Line)> Lines(HostRoot root)
    {
        foreach (var dir in Directories)
        {
            foreach (var file in root.ListNames(dir).Where(f => f.EndsWith(".rules", StringComparison.Ordinal)))
            {
                foreach (var line in (root.TryReadText($"{dir}/{file}") ?? "").Split('\n'))
                {
                    var t = line.Trim();
                    if (t.Length > 0 && t[0] != '#')
                    {
                        yield return ($"{dir}/{file}", t);
                    }
                }
            }
        }
    }

    /// <summary>The first rule for SUBSYSTEM=="vfio" that sets OWNER, GROUP or MODE, or null.</summary>
    public static (string File, string Rule)? VfioOwnershipRule(HostRoot root) =>
        Lines(root).Where(l => l.Line.Contains("SUBSYSTEM==\"vfio\"", StringComparison.Ordinal)
                && (l.Line.Contains("OWNER=", StringComparison.Ordinal) || l.Line.Contains("GROUP=", StringComparison.Ordinal) || l.Line.Contains("MODE=", StringComparison.Ordinal)))
            .Select(l => ((string, string)?)(l.File, l.Line))
            .FirstOrDefault();
}
