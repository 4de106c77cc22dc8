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

    /// <summary>
    /// The arguments GRUB_CMDLINE_LINUX has once the file is sourced: every assignment in order, each
    /// <c>$GRUB_CMDLINE_LINUX</c> standing for the value before it; empty when there is none. A
    /// variable the module cannot know (<c>$CK</c>) stays as written.
    /// </summary>
    public static IReadOnlyList<string> Arguments(string? text) =>
        Split(Read(text ?? "").Effective).Select(ShellValue.Literal).ToArray();

    /// <summary>
    /// The file with <paramref name="wanted"/> arguments set: an argument with the same name (before '=')
    /// is replaced, others appended; a list argument (rd.driver.blacklist) gains the missing items and
    /// loses the <paramref name="removedItems"/>; intel_iommu=/amd_iommu= keep their other sub-options
    /// (intel_iommu=sm_on,igfx_off plus on gives on,sm_on,igfx_off).
    /// </summary>
    public static string Apply(string? text, IReadOnlyList<string> wanted, IReadOnlyCollection<string>? removedItems = null)
    {
        var original = text ?? "";
        var (assignments, effective) = Read(original);
        // Arguments in double-quoted form (ShellValue): what the module adds holds nothing to escape.
        var args = Split(effective);
        var before = args.ToList();
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

        if (assignments.Count > 0 && args.SequenceEqual(before, StringComparer.Ordinal))
        {
            return original;
        }

        if (assignments.Count > 0)
        {
            // The last assignment decides the value: it gets the whole list, so a later
            // GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX intel_iommu=off" can no longer undo what was set.
            // Its quotes, trailing comment and line ending stay.
            var (m, parsed) = assignments[^1];
            var value = m.Groups["value"];
            var cr = value.Value.EndsWith('\r') ? "\r" : "";
            return original[..value.Index] + ShellValue.Render(string.Join(' ', args), parsed.Quote) + parsed.Trailer + cr + original[(value.Index + value.Length)..];
        }

        var newline = original.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        return original + (original.Length == 0 || original.EndsWith('\n') ? "" : newline) + $"GRUB_CMDLINE_LINUX=\"{string.Join(' ', args)}\"{newline}";
    }

    // Every GRUB_CMDLINE_LINUX assignment with its parsed value, and the value once all are sourced.
    private static (List<(Match Line, ShellValue.Parsed Value)> Assignments, string Effective) Read(string text)
    {
        var found = new List<(Match, ShellValue.Parsed)>();
        var effective = "";
        foreach (Match m in Line.Matches(text))
        {
            var raw = m.Groups["value"].Value.TrimEnd('\r');
            ShellValue.Parsed parsed;
            try
            {
                parsed = ShellValue.Parse(raw);
            }
            catch (FormatException e)
            {
                throw Invalid($"GRUB_CMDLINE_LINUX is not a value the module can rewrite ({e.Message}): {raw}");
            }

            effective = ShellValue.Substitute(parsed.Value, "GRUB_CMDLINE_LINUX", effective);
            found.Add((m, parsed));
        }

        return (found, effective);
    }

    private static List<string> Split(string value) => value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).ToList();

    /// <summary>The command that regenerates the boot configuration on this distribution.</summary>
    public static string RegenerateCommand(HostFs.HostRoot root) =>
        root.Exists("/usr/sbin/update-grub") ? "update-grub"
        : root.Exists("/boot/grub2/grub.cfg") ? "grub2-mkconfig -o /boot/grub2/grub.cfg"
        : root.Exists("/boot/efi/EFI") && root.Exists("/usr/sbin/grub2-mkconfig") ? "grub2-mkconfig -o /boot/grub2/grub.cfg"
        : "grub-mkconfig -o /boot/grub/grub.cfg";

    private static PciPassthroughException Invalid(string why) => new(
        ErrorIds.ConfigFileInvalid, FailureKind.InvalidArgument, $"{Path}: {why}.", "Fix the line by hand (GRUB_CMDLINE_LINUX=\"...\"); nothing was written.", Path);
}
