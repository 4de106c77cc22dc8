using System.Globalization;
using System.Text;

namespace PciPassthrough.Sysfs;

/// <summary>
/// Shares the strings that repeat across devices (ids, driver names, cpu lists) within one scan,
/// so an SR-IOV host with thousands of identical VFs holds each value once.
/// </summary>
internal sealed class StringPool
{
    private readonly Dictionary<int, string> _hex4 = [];
    private readonly List<(byte[] Bytes, string Text)> _texts = [];
    private readonly Dictionary<(int, int, int), string> _types = [];
    private readonly Dictionary<int, string> _hex6 = [];

    public string Hex6(int value)
    {
        if (!_hex6.TryGetValue(value, out var s))
        {
            s = value.ToString("x6", CultureInfo.InvariantCulture);
            _hex6[value] = s;
        }

        return s;
    }

    public string Hex4(int value)
    {
        if (!_hex4.TryGetValue(value, out var s))
        {
            s = value.ToString("x4", CultureInfo.InvariantCulture);
            _hex4[value] = s;
        }

        return s;
    }

    public string Type(int vendor, int device, int cls)
    {
        if (!_types.TryGetValue((vendor, device, cls), out var s))
        {
            s = string.Create(CultureInfo.InvariantCulture, $"{vendor:x4}:{device:x4}:{cls:x4}");
            _types[(vendor, device, cls)] = s;
        }

        return s;
    }

    /// <summary>The pooled string for these bytes; few distinct values are expected, so a list suffices.</summary>
    public string Text(ReadOnlySpan<byte> bytes)
    {
        foreach (var (b, t) in _texts)
        {
            if (bytes.SequenceEqual(b))
            {
                return t;
            }
        }

        var text = Encoding.UTF8.GetString(bytes);
        if (_texts.Count < 256)
        {
            _texts.Add((bytes.ToArray(), text));
        }

        return text;
    }
}
