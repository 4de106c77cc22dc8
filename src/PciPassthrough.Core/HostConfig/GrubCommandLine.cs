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

    /// <summary>The arguments of GRUB_CMDLINE_LINUX; empty when the line is missing.</summary>
    public static IReadOnlyList<string> Arguments(string? text)
    {
        var m = Line.Match(text ?? "");
        return m.Success ? Unquote(m.Groups["value"].Value).Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];
    }

    /// <summary>
    /// The file with <paramref name="wanted"/> arguments set as <see cref="Boot.KernelArgumentMerge"/>
    /// merges them (intel_iommu=sm_on,igfx_off plus on gives on,sm_on,igfx_off); other lines kept.
    /// </summary>
    public static string Apply(string? text, IReadOnlyList<string> wanted, IReadOnlyCollection<string>? removedItems = null)
    {
        var original = text ?? "";
        var m = Line.Match(original);
        var args = m.Success ? Unquote(m.Groups["value"].Value).Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList() : [];
        args = Boot.KernelArgumentMerge.Apply(args, wanted, removedItems);

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

    private static PciPassthroughException Invalid(string why) => ErrorCatalog.ConfigFileInvalid(Path, why, "Fix the line by hand (GRUB_CMDLINE_LINUX=\"...\")");
}
