using PciPassthrough.HostFs;

namespace PciPassthrough.Safety;

/// <summary>
/// The network interfaces that carry the host's default route (IPv4 or IPv6), with every interface
/// beneath them (bridge ports, bond slaves, VLAN parents): detaching the PCI device of any of them cuts
/// the host off its network.
/// </summary>
internal static class DefaultRouteInterfaces
{
    /// <summary>False when neither routing table can be read: no route is then no evidence of safety.</summary>
    public static bool IsKnown(HostRoot root) =>
        root.TryReadText("/proc/net/route") is not null || root.TryReadText("/proc/net/ipv6_route") is not null;

    public static IReadOnlySet<string> Find(HostRoot root)
    {
        var top = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in (root.TryReadText("/proc/net/route") ?? "").Split('\n').Skip(1))
        {
            var f = line.Split('\t', StringSplitOptions.TrimEntries);
            if (f.Length > 7 && f[1] == "00000000" && f[7] == "00000000")
            {
                top.Add(f[0]);
            }
        }

        foreach (var line in (root.TryReadText("/proc/net/ipv6_route") ?? "").Split('\n'))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 10 && f[1] == "00" && f[0].Trim('0').Length == 0 && f[9] != "lo")
            {
                top.Add(f[9]);
            }
        }

        var all = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in top)
        {
            AddWithLower(root, name, all, depth: 0);
        }

        return all;
    }

    private static void AddWithLower(HostRoot root, string name, HashSet<string> all, int depth)
    {
        if (depth > 8 || !all.Add(name))
        {
            return;
        }

        var dir = "/sys/class/net/" + name;
        var lower = root.ListNames(dir).Where(n => n.StartsWith("lower_", StringComparison.Ordinal)).Select(n => n[6..])
            .Concat(root.ListNames(dir + "/brif"))
            .Concat((root.TryReadText(dir + "/bonding/slaves") ?? "").Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries));
        foreach (var l in lower)
        {
            AddWithLower(root, l, all, depth + 1);
        }
    }

    /// <summary>Formats for messages: "ens3, br0".</summary>
    public static string Describe(IEnumerable<string> names) => string.Join(", ", names.Order(StringComparer.Ordinal));
}
