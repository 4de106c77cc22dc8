using System.Globalization;
using System.Text;
using PciPassthrough.HostFs;
using PciPassthrough.Sriov;

namespace PciPassthrough.HostConfig;

/// <summary>
/// /etc/sysconfig/pcipassthrough-sriov, the PFs the boot script sets up. One line per PF and per configured VF,
/// words the script reads with <c>read</c> (no shell evaluation anywhere):
/// <code>
/// pf 0000:08:00.0 1b36:0010 4 0          # address, vendor:device when configured, VF count, autoprobe
/// vf 0000:02:00.0 0 mac 52:54:00:aa:bb:01 vlan 100 qos 3   # PF, VF index, ip link arguments
/// </code>
/// </summary>
public static class SriovBootConfiguration
{
    public const string Path = "/etc/sysconfig/pcipassthrough-sriov";

    private const string Header = """
        # Written by PciPassthrough (Set-VfioHostConfiguration -VirtualFunctionCount / -PersistVirtualFunctions):
        # the SR-IOV virtual functions pcipassthrough-sriov.service creates at boot.
        # pf ADDRESS VENDOR:DEVICE NUMVFS AUTOPROBE   (a PF whose ids changed is skipped)
        # vf PF-ADDRESS INDEX IP-LINK-ARGUMENTS        (ip link set dev <pf netdev> vf INDEX ...)

        """;

    /// <summary>The configured PFs; empty when the file is missing. ConfigFileInvalid for a line the script would not understand.</summary>
    public static IReadOnlyList<SriovBootEntry> Read(HostRoot root)
    {
        ArgumentNullException.ThrowIfNull(root);
        try
        {
            return Parse(root.TryReadText(Path));
        }
        catch (FormatException e)
        {
            throw ErrorCatalog.ConfigFileInvalid(Path, e.Message, $"Correct or remove that line in {Path} (Set-VfioHostConfiguration -RemoveVirtualFunctionCount drops a PF)");
        }
    }

    /// <exception cref="FormatException">A line is neither a comment, a pf line nor a vf line of a listed PF.</exception>
    public static IReadOnlyList<SriovBootEntry> Parse(string? text)
    {
        var pfs = new List<SriovBootEntry>();
        var vfs = new List<(string Pf, SriovBootVirtualFunction Vf)>();
        var number = 0;
        foreach (var raw in (text ?? "").Split('\n'))
        {
            number++;
            var words = raw.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0 || words[0].StartsWith('#'))
            {
                continue;
            }

            var where = $"line {number} ('{raw.Trim()}')";
            if (words[0] == "pf" && words.Length == 5 && PciAddress.TryParse(words[1], out var a) && words[2] is { Length: 9 } ids && ids[4] == ':'
                && int.TryParse(words[3], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && words[4] is "0" or "1")
            {
                pfs.Add(new SriovBootEntry { PciAddress = a.ToString(), VendorId = ids[..4], DeviceId = ids[5..], NumVfs = n, DriversAutoprobe = words[4] == "1" });
            }
            else if (words[0] == "vf" && words.Length > 3 && PciAddress.TryParse(words[1], out var pf) && int.TryParse(words[2], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                vfs.Add((pf.ToString(), new SriovBootVirtualFunction { Index = index, Settings = ParseArguments(words.AsSpan(3), where) }));
            }
            else
            {
                throw new FormatException($"{where} is neither 'pf ADDRESS VENDOR:DEVICE NUMVFS 0|1' nor 'vf PF INDEX ip-arguments'");
            }
        }

        return pfs.Select(p => new SriovBootEntry
        {
            PciAddress = p.PciAddress,
            VendorId = p.VendorId,
            DeviceId = p.DeviceId,
            NumVfs = p.NumVfs,
            DriversAutoprobe = p.DriversAutoprobe,
            VirtualFunctions = vfs.Where(v => v.Pf == p.PciAddress).Select(v => v.Vf).OrderBy(v => v.Index).ToArray(),
        }).ToList();
    }

    /// <summary>The file for these PFs, in address order.</summary>
    public static string Render(IEnumerable<SriovBootEntry> entries)
    {
        var text = new StringBuilder(Header);
        foreach (var e in entries.OrderBy(e => e.PciAddress, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"pf {e.PciAddress} {e.VendorId}:{e.DeviceId} {e.NumVfs} {(e.DriversAutoprobe ? 1 : 0)}\n");
            foreach (var vf in e.VirtualFunctions.OrderBy(v => v.Index))
            {
                text.Append(CultureInfo.InvariantCulture, $"vf {e.PciAddress} {vf.Index} {vf.Arguments}\n");
            }
        }

        return text.ToString();
    }

    /// <summary>The inverse of VirtualFunctionConfigurator.Argv after "vf N" (also read back from Set-PciVirtualFunction's journal).</summary>
    internal static VirtualFunctionSettings ParseArguments(ReadOnlySpan<string> words, string where)
    {
        var s = new VirtualFunctionSettings();
        for (var i = 0; i < words.Length; i += 2)
        {
            var value = i + 1 < words.Length ? words[i + 1] : throw new FormatException($"{where}: '{words[i]}' has no value");
            s = words[i] switch
            {
                "mac" => s with { MacAddress = value },
                "vlan" => s with { VlanId = Number(value, where) },
                "qos" => s with { VlanQos = Number(value, where) },
                "proto" when value is "802.1Q" or "802.1ad" => s with { VlanProtocol = value },
                "max_tx_rate" => s with { MaxTxRateMbps = Number(value, where) },
                "min_tx_rate" => s with { MinTxRateMbps = Number(value, where) },
                "spoofchk" when value is "on" or "off" => s with { SpoofCheck = value == "on" },
                "trust" when value is "on" or "off" => s with { Trust = value == "on" },
                "state" when Enum.TryParse<VirtualFunctionLinkState>(value, ignoreCase: true, out var state) => s with { LinkState = state },
                _ => throw new FormatException($"{where}: '{words[i]} {value}' is no VF attribute ip takes"),
            };
        }

        try
        {
            VirtualFunctionConfigurator.Validate(s, reset: true);
        }
        catch (PciPassthroughException e)
        {
            throw new FormatException($"{where}: {e.Message}", e);
        }

        return s;
    }

    private static int Number(string text, string where) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new FormatException($"{where}: '{text}' is not a number");
}
