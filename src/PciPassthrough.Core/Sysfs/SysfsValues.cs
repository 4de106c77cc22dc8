using System.Globalization;
using System.Text;

namespace PciPassthrough.Sysfs;

/// <summary>Parsing of sysfs attribute bytes. Everything returns null for garbage instead of throwing.</summary>
internal static class SysfsValues
{
    private static readonly string[] Hex2 = Enumerable.Range(0, 256).Select(i => i.ToString("x2", CultureInfo.InvariantCulture)).ToArray();

    public static string TwoHex(int value) => Hex2[value & 0xff];

    /// <summary>Parses <c>0x8086\n</c> (or plain hex) up to <paramref name="max"/>.</summary>
    public static int? ParseHex(ReadOnlySpan<byte> raw, int max)
    {
        var s = Trim(raw);
        if (s.Length > 2 && s[0] == (byte)'0' && (s[1] == (byte)'x' || s[1] == (byte)'X'))
        {
            s = s[2..];
        }

        if (s.IsEmpty || s.Length > 8)
        {
            return null;
        }

        long value = 0;
        foreach (var b in s)
        {
            int d = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
                _ => -1,
            };
            if (d < 0)
            {
                return null;
            }

            value = (value << 4) | (uint)d;
        }

        return value <= max ? (int)value : null;
    }

    /// <summary>Parses a decimal integer, sign allowed (numa_node is -1 when unknown).</summary>
    public static int? ParseDecimal(ReadOnlySpan<byte> raw)
    {
        var s = Trim(raw);
        return int.TryParse(Encoding.ASCII.GetString(s), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    /// <summary>The last path segment of a link target (<c>../../bus/pci/drivers/e1000</c> gives <c>e1000</c>).</summary>
    public static ReadOnlySpan<byte> LastSegment(ReadOnlySpan<byte> target)
    {
        target = Trim(target).TrimEnd((byte)'/');
        var slash = target.LastIndexOf((byte)'/');
        return slash >= 0 ? target[(slash + 1)..] : target;
    }

    public static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> raw) => raw.Trim(" \t\r\n\0"u8);

    /// <summary>True when the bytes are printable text a person can be shown (garbage files are rejected).</summary>
    public static bool IsPrintable(ReadOnlySpan<byte> s)
    {
        foreach (var b in s)
        {
            if (b < 0x20 || b > 0x7e)
            {
                return false;
            }
        }

        return true;
    }
}
