using System.Text.RegularExpressions;

namespace PciPassthrough.HostConfig;

/// <summary>
/// GRUB_CMDLINE_LINUX in /etc/default/grub: the arguments read, and the file rewritten with arguments
/// added, every other argument and line kept. Unbalanced quotes are refused, never guessed at.
/// </summary>
public static class GrubCommandLine
{
    public const string Path = "/etc/default/grub";
    private static readonly Regex Line = new(@"^(?<lead>[ \t]*(?:export[ \t]+)?GRUB_CMDLINE_LINUX=)(?<value>.*)$", RegexOptions.Multiline | RegexOptions.CultureInvariant);

    /// <summary>
    /// The arguments GRUB_CMDLINE_LINUX has once the file is sourced: every assignment in order, each
    /// <c>$GRUB_CMDLINE_LINUX</c> standing for the value before it; empty when there is none. A
    /// variable the module cannot know (<c>$CK</c>) stays as written.
    /// </summary>
    public static IReadOnlyList<string> Arguments(string? text) =>
        Split(Read(text ?? "").Effective).Select(ShellValue.Literal).ToArray();

    /// <summary>
    /// The file with <paramref name="wanted"/> arguments set as <see cref="Boot.KernelArgumentMerge"/>
    /// merges them (intel_iommu=sm_on,igfx_off plus on gives on,sm_on,igfx_off); other lines kept.
    /// </summary>
    public static string Apply(string? text, IReadOnlyList<string> wanted, IReadOnlyCollection<string>? removedItems = null)
    {
        var original = text ?? "";
        var (assignments, effective) = Read(original);
        // Arguments in double-quoted form (ShellValue): what the module adds holds nothing to escape.
        var before = Split(effective);
        var args = Boot.KernelArgumentMerge.Apply(before, wanted, removedItems);

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

    private static PciPassthroughException Invalid(string why) => ErrorCatalog.ConfigFileInvalid(Path, why, "Fix the line by hand (GRUB_CMDLINE_LINUX=\"...\")");
}
