using System.Globalization;
using System.Text;

namespace PciPassthrough;

/// <summary>What a QEMU process's command line says about the guest it runs.</summary>
internal static class QemuCommandLine
{
    /// <summary>
    /// The guest name of <c>-name guest=NAME,debug-threads=on</c> (libvirt's form) or <c>-name NAME</c>, with QEMU's
    /// <c>,,</c> escape undone; null when the command line has no <c>-name</c>.
    /// </summary>
    public static string? GuestName(IReadOnlyList<string> args)
    {
        for (var i = 0; i + 1 < args.Count; i++)
        {
            if (args[i] is not ("-name" or "--name"))
            {
                continue;
            }

            foreach (var (key, value) in Options(args[i + 1]))
            {
                if (key is null or "guest")
                {
                    return value.Length == 0 ? null : value;
                }
            }
        }

        return null;
    }

    /// <summary>OpenNebula names its domains <c>one-&lt;VM ID&gt;</c>.</summary>
    public static int? OpenNebulaVmId(string? domainName) =>
        domainName is not null && domainName.StartsWith("one-", StringComparison.Ordinal)
            && int.TryParse(domainName.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : null;

    // QEMU's option syntax: key=value pairs split on ',', where ',,' stands for one comma; the first part may be an
    // implied key (no '=').
    private static IEnumerable<(string? Key, string Value)> Options(string text)
    {
        var part = new StringBuilder();
        var first = true;
        for (var i = 0; i <= text.Length; i++)
        {
            if (i < text.Length && text[i] == ',' && i + 1 < text.Length && text[i + 1] == ',')
            {
                part.Append(',');
                i++;
                continue;
            }

            if (i < text.Length && text[i] != ',')
            {
                part.Append(text[i]);
                continue;
            }

            var s = part.ToString();
            part.Clear();
            var eq = s.IndexOf('=', StringComparison.Ordinal);
            yield return eq < 0 ? (first ? null : s, first ? s : "") : (s[..eq], s[(eq + 1)..]);
            first = false;
        }
    }
}
