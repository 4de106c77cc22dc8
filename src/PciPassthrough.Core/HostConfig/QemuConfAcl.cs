using System.Text.RegularExpressions;
using PciPassthrough.HostFs;

namespace PciPassthrough.HostConfig;

/// <summary>
/// libvirt's <c>cgroup_device_acl</c> in /etc/libvirt/qemu.conf. Setting it replaces libvirt's built-in
/// list, so its defaults must stay in it; static /dev/vfio/N entries go stale when group numbers change.
/// </summary>
public sealed class QemuConfAcl
{
    public const string Path = "/etc/libvirt/qemu.conf";

    /// <summary>libvirt's built-in list (src/qemu/qemu_conf.c), which an explicit setting must keep.</summary>
    public static readonly IReadOnlyList<string> LibvirtDefaults =
        ["/dev/null", "/dev/full", "/dev/zero", "/dev/random", "/dev/urandom", "/dev/ptmx", "/dev/kvm", "/dev/kqemu", "/dev/rtc", "/dev/hpet"];

    private static readonly Regex Setting = new(@"^[ \t]*cgroup_device_acl[ \t]*=[ \t]*\[(?<body>[^\]]*)\]", RegexOptions.Multiline | RegexOptions.CultureInvariant);
    private static readonly Regex Opening = new(@"^[ \t]*cgroup_device_acl[ \t]*=", RegexOptions.Multiline | RegexOptions.CultureInvariant);
    private static readonly Regex Quoted = new("\"(?<p>[^\"]*)\"", RegexOptions.CultureInvariant);

    private QemuConfAcl(bool exists, IReadOnlyList<string>? entries, string? error, bool unreadable = false)
    {
        Unreadable = unreadable;
        FileExists = exists;
        Entries = entries;
        Error = error;
    }

    public bool FileExists { get; }

    /// <summary>True when the file exists but cannot be read (mode 0600 and not root).</summary>
    public bool Unreadable { get; }

    /// <summary>The paths listed, or null when the setting is absent (commented out): libvirt's defaults apply.</summary>
    public IReadOnlyList<string>? Entries { get; }

    /// <summary>Why the setting could not be read (a list that is never closed), or null.</summary>
    public string? Error { get; }

    public static QemuConfAcl Read(HostRoot root)
    {
        var text = root.TryReadText(Path);
        if (text is null)
        {
            return File.Exists(root.Resolve(Path)) ? new QemuConfAcl(true, null, null, unreadable: true) : new QemuConfAcl(false, null, null);
        }

        var withoutComments = string.Join('\n', text.Split('\n').Select(l => l.TrimStart().StartsWith('#') ? "" : l));
        var match = Setting.Match(withoutComments);
        if (match.Success)
        {
            return new QemuConfAcl(true, Quoted.Matches(match.Groups["body"].Value).Select(m => m.Groups["p"].Value).ToList(), null);
        }

        return Opening.IsMatch(withoutComments)
            ? new QemuConfAcl(true, null, "cgroup_device_acl is set but its list is not a closed [ ... ] of quoted paths")
            : new QemuConfAcl(true, null, null);
    }

    /// <summary>
    /// qemu.conf with cgroup_device_acl listing libvirt's defaults, the entries already there (stale
    /// /dev/vfio/N dropped: <paramref name="existingGroups"/> are the groups that exist), /dev/vfio/vfio
    /// and the given groups' devices. Only that setting changes; a broken list is refused.
    /// </summary>
    public static string Apply(string? text, IReadOnlyCollection<int> groups, IReadOnlyCollection<int> existingGroups)
    {
        var original = text ?? "";
        var withoutComments = string.Join('\n', original.Split('\n').Select(l => l.TrimStart().StartsWith('#') ? new string(' ', l.Length) : l));
        var match = Setting.Match(withoutComments);
        if (!match.Success && Opening.IsMatch(withoutComments))
        {
            throw new PciPassthroughException(ErrorIds.ConfigFileInvalid, FailureKind.InvalidArgument, $"{Path}: cgroup_device_acl is set but its list is not a closed [ ... ] of quoted paths.", "Fix the list by hand; nothing was written.", Path);
        }

        var current = match.Success ? Quoted.Matches(match.Groups["body"].Value).Select(m => m.Groups["p"].Value).ToList() : [];
        var entries = new List<string>(LibvirtDefaults);
        foreach (var e in current)
        {
            // With no group at all (the IOMMU not on yet) nothing can be told stale: keep every entry.
            var stale = existingGroups.Count > 0 && e.StartsWith("/dev/vfio/", StringComparison.Ordinal) && int.TryParse(e.AsSpan(10), out var g) && !existingGroups.Contains(g);
            if (!stale && !entries.Contains(e))
            {
                entries.Add(e);
            }
        }

        foreach (var e in groups.Order().Select(g => $"/dev/vfio/{g}").Prepend("/dev/vfio/vfio"))
        {
            if (!entries.Contains(e))
            {
                entries.Add(e);
            }
        }

        var setting = "cgroup_device_acl = [\n" + string.Join(",\n", entries.Select(e => $"    \"{e}\"")) + "\n]";
        if (match.Success)
        {
            return original[..match.Index] + setting + original[(match.Index + match.Length)..];
        }

        return original + (original.Length == 0 || original.EndsWith('\n') ? "" : "\n") + "\n# Set by PciPassthrough: libvirt's defaults, /dev/vfio/vfio and the passed-through groups.\n" + setting + "\n";
    }

    /// <summary>The /dev/vfio/N group numbers listed.</summary>
    public IEnumerable<int> VfioGroups() => (Entries ?? []).Select(e => e.StartsWith("/dev/vfio/", StringComparison.Ordinal) && int.TryParse(e.AsSpan(10), out var g) ? g : -1).Where(g => g >= 0);
}
