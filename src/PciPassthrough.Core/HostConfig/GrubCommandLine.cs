using System.Text.RegularExpressions;

namespace PciPassthrough.HostConfig;

/// <summary>
/// GRUB_CMDLINE_LINUX in /etc/default/grub: the arguments read, and the file rewritten with arguments
/// added, every other argument and line kept. Unbalanced quotes are refused, never guessed at.
/// </summary>
public static class GrubCommandLine
{
    public const string Path = "/etc/default/grub";
    /// <summary>Arguments whose value is a comma-separated list that several writers share.</summary>
    private static readonly HashSet<string> ListArguments = new(StringComparer.Ordinal) { "rd.driver.blacklist", "modprobe.blacklist", "rd.driver.pre" };

    private static readonly Regex Line = new(@"^(?<lead>[ \t]*(?:export[ \t]+)?GRUB_CMDLINE_LINUX=)(?<value>.*)$", RegexOptions.Multiline | RegexOptions.CultureInvariant);

    /// <summary>The arguments of GRUB_CMDLINE_LINUX; empty when the line is missing.</summary>
    public static IReadOnlyList<string> Arguments(string? text)
    {
        var m = Line.Match(text ?? "");
        return m.Success ? Unquote(m.Groups["value"].Value).Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];
    }

    /// <summary>
    /// The file with <paramref name="wanted"/> arguments set: an argument with the same name (before '=')
    /// is replaced, others appended; a list argument (rd.driver.blacklist) gains the missing items and
    /// loses the <paramref name="removedItems"/>; intel_iommu=/amd_iommu= keep their other sub-options
    /// (intel_iommu=sm_on,igfx_off plus on gives on,sm_on,igfx_off).
    /// </summary>
    public static string Apply(string? text, IReadOnlyList<string> wanted, IReadOnlyCollection<string>? removedItems = null)
    {
        var original = text ?? "";
        var m = Line.Match(original);
        var args = m.Success ? Unquote(m.Groups["value"].Value).Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList() : [];
        var removed = removedItems ?? [];
        for (var i = args.Count - 1; i >= 0 && removed.Count > 0; i--)
        {
            var name = args[i].Split('=')[0];
            if (ListArguments.Contains(name))
            {
                var items = args[i].Split('=', 2).ElementAtOrDefault(1)?.Split(',', StringSplitOptions.RemoveEmptyEntries).Where(x => !removed.Contains(x)).ToList() ?? [];
                if (items.Count == 0)
                {
                    args.RemoveAt(i);
                }
                else
                {
                    args[i] = $"{name}={string.Join(',', items)}";
                }
            }
        }

        foreach (var arg in wanted)
        {
            var name = arg.Split('=')[0];
            var index = args.FindIndex(a => a.Split('=')[0] == name);
            if (index < 0)
            {
                args.Add(arg);
            }
            else if (ListArguments.Contains(name) || name is "intel_iommu" or "amd_iommu")
            {
                var items = args[index].Split('=', 2).ElementAtOrDefault(1)?.Split(',', StringSplitOptions.RemoveEmptyEntries).ToList() ?? [];
                var add = arg.Split('=', 2)[1].Split(',');
                if (name is "intel_iommu" or "amd_iommu")
                {
                    // on and off contradict each other; every other sub-option (sm_on, igfx_off, ...) stays.
                    items.RemoveAll(x => x is "on" or "off" && add.Any(a => a is "on" or "off"));
                    items.InsertRange(0, add.Where(a => !items.Contains(a)));
                }
                else
                {
                    items.AddRange(add.Where(a => !items.Contains(a)));
                }

                args[index] = $"{name}={string.Join(',', items)}";
            }
            else
            {
                args[index] = arg;
            }
        }

        var line = $"\"{string.Join(' ', args)}\"";
        if (m.Success)
        {
            return original[..m.Groups["value"].Index] + line + original[(m.Groups["value"].Index + m.Groups["value"].Length)..];
        }

        return original + (original.Length == 0 || original.EndsWith('\n') ? "" : "\n") + $"GRUB_CMDLINE_LINUX={line}\n";
    }

    /// <summary>The command that regenerates the boot configuration on this distribution.</summary>
    public static string RegenerateCommand(HostFs.HostRoot root) =>
        root.Exists("/usr/sbin/update-grub") ? "update-grub"
        : root.Exists("/boot/grub2/grub.cfg") ? "grub2-mkconfig -o /boot/grub2/grub.cfg"
        : root.Exists("/boot/efi/EFI") && root.Exists("/usr/sbin/grub2-mkconfig") ? "grub2-mkconfig -o /boot/grub2/grub.cfg"
        : "grub-mkconfig -o /boot/grub/grub.cfg";

    private static string Unquote(string value)
    {
        var v = value.Trim();
        if (v.Length == 0)
        {
            return "";
        }

        var q = v[0];
        if (q is '"' or '\'')
        {
            if (v.Length < 2 || v[^1] != q || v[1..^1].Contains(q, StringComparison.Ordinal))
            {
                throw Invalid($"GRUB_CMDLINE_LINUX has unbalanced quotes: {value}");
            }

            return v[1..^1];
        }

        if (v.Contains('"', StringComparison.Ordinal) || v.Contains('\'', StringComparison.Ordinal) || v.Contains(' ', StringComparison.Ordinal))
        {
            throw Invalid($"GRUB_CMDLINE_LINUX is not one quoted string: {value}");
        }

        return v;
    }

    private static PciPassthroughException Invalid(string why) => new(
        ErrorIds.ConfigFileInvalid, FailureKind.InvalidArgument, $"{Path}: {why}.", "Fix the line by hand (GRUB_CMDLINE_LINUX=\"...\"); nothing was written.", Path);
}
