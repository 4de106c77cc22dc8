using System.Text;
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

    private const string Name = "cgroup_device_acl";

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

        var (inForce, error) = Find(VirConf.Parse(text));
        return new QemuConfAcl(true, error is null ? inForce?.Strings : null, error);
    }

    /// <summary>
    /// qemu.conf with cgroup_device_acl listing libvirt's defaults, the entries already there (stale
    /// /dev/vfio/N dropped: <paramref name="existingGroups"/> are the groups that exist), /dev/vfio/vfio
    /// and the given groups' devices. Only that setting changes; a broken list is refused.
    /// </summary>
    public static string Apply(string? text, IReadOnlyCollection<int> groups, IReadOnlyCollection<int> existingGroups)
    {
        var original = text ?? "";
        var settings = VirConf.Parse(original);
        var (inForce, error) = Find(settings);
        if (error is not null)
        {
            throw Invalid(error);
        }

        var entries = new List<string>(LibvirtDefaults);
        foreach (var e in inForce?.Strings ?? [])
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

        var nl = original.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        var setting = Name + " = [" + nl + string.Join("," + nl, entries.Select(e => "    " + Quote(e))) + nl + "]";
        if (inForce is null)
        {
            return original + (original.Length == 0 || original.EndsWith('\n') ? "" : nl) + nl + "# Set by PciPassthrough: libvirt's defaults, /dev/vfio/vfio and the passed-through groups." + nl + setting + nl;
        }

        // libvirt reads the first cgroup_device_acl (virConfGetValue returns the first entry of that
        // name), so that one is rewritten in place. Later ones are commented out, not removed: libvirt
        // ignores them today, and the admin can still see what they held. Comments inside the list,
        // which libvirt's parser refuses, move above the setting.
        var sb = new StringBuilder(original);
        foreach (var later in settings.Where(s => s.Name == Name && s != inForce).OrderByDescending(s => s.Start))
        {
            var (from, to) = WholeLines(original, later);
            var lines = original[from..to].Split('\n');
            var commented = string.Join('\n', lines.Select(l => l.Length == 0 || l == "\r" ? l : "#" + l));
            sb.Remove(from, to - from).Insert(from, "# PciPassthrough: libvirt reads only the first cgroup_device_acl above." + nl + commented);
        }

        sb.Remove(inForce.Start, inForce.End - inForce.Start).Insert(inForce.Start, string.Concat(inForce.Comments.Select(c => c + nl)) + setting);
        return sb.ToString();
    }

    private static (VirConf.Setting? InForce, string? Error) Find(List<VirConf.Setting> settings)
    {
        var acl = settings.Where(s => s.Name == Name).ToList();
        var broken = acl.FirstOrDefault(s => s.Error is not null || s.Strings is null);
        return broken is null
            ? (acl.FirstOrDefault(), null)
            : (null, $"cgroup_device_acl is set but its list is not a closed [ ... ] of quoted paths ({broken.Error ?? "not a list of strings"})");
    }

    /// <summary>The lines a later setting spans, refused when it shares them with another statement.</summary>
    private static (int From, int To) WholeLines(string text, VirConf.Setting setting)
    {
        var from = text.LastIndexOf('\n', Math.Max(setting.Start - 1, 0)) + 1;
        var to = text.IndexOf('\n', setting.End);
        to = to < 0 ? text.Length : to;
        var after = text[setting.End..to].Trim();
        if (text[from..setting.Start].Trim().Length > 0 || (after.Length > 0 && after[0] != '#'))
        {
            throw Invalid("cgroup_device_acl is set more than once, and a later setting shares its line with another statement");
        }

        return (from, to);
    }

    // libvirt strings have no escapes: a path holding '"' goes in single quotes, one holding both in triple quotes.
    private static string Quote(string path) =>
        !path.Contains('"', StringComparison.Ordinal) ? $"\"{path}\""
        : !path.Contains('\'', StringComparison.Ordinal) ? $"'{path}'"
        : $"\"\"\"{path}\"\"\"";

    private static PciPassthroughException Invalid(string detail) =>
        ErrorCatalog.ConfigFileInvalid(Path, detail, "Fix the list by hand");

    /// <summary>The /dev/vfio/N group numbers listed.</summary>
    public IEnumerable<int> VfioGroups() => (Entries ?? []).Select(e => e.StartsWith("/dev/vfio/", StringComparison.Ordinal) && int.TryParse(e.AsSpan(10), out var g) ? g : -1).Where(g => g >= 0);
}
