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
    public static int? ParseDecimal(ReadOnlySpan<byte> raw) =>
        int.TryParse(Trim(raw), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : null;

    /// <summary>Parses an unsigned decimal (a group number from a link name), no sign, no spaces.</summary>
    public static int? ParseNumber(ReadOnlySpan<byte> raw) =>
        int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;

    /// <summary>Parses a canonical sysfs address (<c>DDDD:BB:SS.F</c>) from bytes without allocating.</summary>
    public static bool TryParseAddress(ReadOnlySpan<byte> s, out PciAddress address)
    {
        address = default;
        var colon1 = s.IndexOf((byte)':');
        if (colon1 < 4 || s.Length != colon1 + 8 || s[colon1 + 3] != (byte)':' || s[colon1 + 6] != (byte)'.')
        {
            return false;
        }

        var domain = ParseHex(s[..colon1], int.MaxValue);
        var bus = ParseHex(s.Slice(colon1 + 1, 2), 0xff);
        var slot = ParseHex(s.Slice(colon1 + 4, 2), 0x1f);
        var function = ParseHex(s.Slice(colon1 + 7, 1), 7);
        if (domain is null || bus is null || slot is null || function is null)
        {
            return false;
        }

        address = new PciAddress(domain.Value, bus.Value, slot.Value, function.Value);
        return true;
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
