using System.Text;

namespace PciPassthrough.HostConfig;

/// <summary>The modprobe.d and initramfs files the module owns (rewritten whole) or appends to.</summary>
internal static class ModprobeFiles
{
    public const string BlacklistPath = "/etc/modprobe.d/pcipassthrough-blacklist.conf";
    public const string VfioPath = "/etc/modprobe.d/pcipassthrough-vfio.conf";
    public const string DracutPath = "/etc/dracut.conf.d/pcipassthrough-vfio.conf";
    public const string InitramfsToolsPath = "/etc/initramfs-tools/modules";
    public const string UdevRulePath = "/etc/udev/rules.d/99-pcipassthrough-vfio.rules";

    private const string Header = "# Written by PciPassthrough (Set-VfioHostConfiguration); rewritten on every run.\n";

    /// <summary>Blacklists, with the guide's extra lines for nouveau (its legacy name, modeset off, aliases off).</summary>
    public static string Blacklist(IEnumerable<string> drivers)
    {
        var sb = new StringBuilder(Header);
        foreach (var d in drivers)
        {
            sb.Append("blacklist ").Append(d).Append('\n');
            if (d == "nouveau")
            {
                sb.Append("blacklist lbm-nouveau\noptions nouveau modeset=0\nalias nouveau off\nalias lbm-nouveau off\n");
            }
        }

        return sb.ToString();
    }

    /// <summary>softdep lines (vfio-pci first, so it can claim the device) and, when asked, vfio-pci ids.</summary>
    public static string Vfio(IEnumerable<string> softdepDrivers, IReadOnlyCollection<string> ids)
    {
        var sb = new StringBuilder(Header);
        foreach (var d in softdepDrivers)
        {
            sb.Append("softdep ").Append(d).Append(" pre: vfio-pci\n");
        }

        if (ids.Count > 0)
        {
            sb.Append("# ids= makes vfio-pci claim EVERY device with these ids.\n");
            sb.Append("options vfio-pci ids=").Append(string.Join(',', ids)).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>dracut wants spaces inside the quotes, so appended lists do not run together.</summary>
    public static string Dracut(IEnumerable<string> modules) => Header + $"add_drivers+=\" {string.Join(' ', modules)} \"\n";

    /// <summary>initramfs-tools' modules file is shared: missing module lines are appended, nothing else changes.</summary>
    public static string InitramfsTools(string? current, IEnumerable<string> modules)
    {
        var text = current ?? "# List of modules that you want to include in your initramfs.\n";
        var present = text.Split('\n').Select(l => l.Split('#')[0].Trim().Split(' ')[0]).ToHashSet(StringComparer.Ordinal);
        var sb = new StringBuilder(text);
        if (sb.Length > 0 && sb[^1] != '\n')
        {
            sb.Append('\n');
        }

        foreach (var m in modules.Where(m => !present.Contains(m)))
        {
            sb.Append(m).Append('\n');
        }

        return sb.ToString();
    }

    public static string UdevRule(string owner, string group, string mode) =>
        Header + $"SUBSYSTEM==\"vfio\", OWNER=\"{owner}\", GROUP=\"{group}\", MODE=\"{mode}\"\n";
}
