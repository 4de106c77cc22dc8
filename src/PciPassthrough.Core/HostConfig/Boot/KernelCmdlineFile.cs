using PciPassthrough.HostFs;
using PciPassthrough.Iommu;

namespace PciPassthrough.HostConfig.Boot;

/// <summary>
/// /etc/kernel/cmdline: the whole command line kernel-install and proxmox-boot-tool put into every
/// boot entry, root= included. Its words are split on any white space as kernel-install reads them;
/// double quotes group a value with spaces, as the kernel parses it.
/// </summary>
internal static class KernelCmdlineFile
{
    public const string Path = "/etc/kernel/cmdline";

    /// <summary>Arguments the boot loader adds by itself; they never belong in the file.</summary>
    private static readonly string[] LoaderOwned = ["BOOT_IMAGE", "initrd"];

    public static IReadOnlyList<string> Arguments(string? text) => Split(text ?? "", Path);

    /// <summary>
    /// The file with the arguments merged in, as one line. A missing file starts from the running
    /// command line, without what the boot loader adds itself: kernel-install would otherwise boot the
    /// next kernel with the VFIO arguments alone and no root=.
    /// </summary>
    public static string Apply(HostRoot root, string? text, IReadOnlyList<string> wanted, IReadOnlyCollection<string>? removedItems)
    {
        var current = text is null ? Seed(root) : Arguments(text);
        return string.Join(' ', KernelArgumentMerge.Apply(current, wanted, removedItems)) + "\n";
    }

    private static List<string> Seed(HostRoot root)
    {
        var running = root.TryReadText("/proc/cmdline");
        if (running is null)
        {
            throw ErrorCatalog.KernelCommandLineUnknown(Path, "/proc/cmdline cannot be read");
        }

        var args = Split(running, "/proc/cmdline").Where(a => !LoaderOwned.Contains(a.Split('=')[0])).ToList();
        if (!args.Any(a => a.StartsWith("root=", StringComparison.Ordinal)))
        {
            throw ErrorCatalog.KernelCommandLineUnknown(Path, "the running command line has no root=");
        }

        return args;
    }

    private static List<string> Split(string text, string source)
    {
        var args = new List<string>();
        var word = new System.Text.StringBuilder();
        var quoted = false;
        foreach (var c in text)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }

            if (!quoted && char.IsWhiteSpace(c))
            {
                Flush();
                continue;
            }

            word.Append(c);
        }

        if (quoted)
        {
            throw ErrorCatalog.ConfigFileInvalid(source, $"a double quote is not closed in '{text.Trim()}'", $"Fix {source} by hand");
        }

        Flush();
        return args;

        void Flush()
        {
            if (word.Length > 0)
            {
                args.Add(word.ToString());
                word.Clear();
            }
        }
    }
}
