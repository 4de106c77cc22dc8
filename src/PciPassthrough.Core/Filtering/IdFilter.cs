namespace PciPassthrough.Filtering;

/// <summary>
/// One lspci <c>-d [vendor]:[device][:class[:prog-if]]</c> filter, parsed and matched exactly as
/// pciutils does (lib/filter.c): empty or <c>*</c> is any; the class field is 16 bits and takes
/// <c>x</c> for any digit; <c>03</c> means class 0x0003, not display devices.
/// </summary>
public sealed class IdFilter
{
    private const int MaxLength = 63; // pciutils copies the expression into a 64-byte buffer
    private readonly int _vendor = -1;
    private readonly int _device = -1;
    private readonly int _class = -1;
    private readonly uint _classMask = uint.MaxValue;
    private readonly int _progIf = -1;

    private IdFilter(string text, int vendor, int device, int cls, uint classMask, int progIf)
    {
        Text = text;
        _vendor = vendor;
        _device = device;
        _class = cls;
        _classMask = classMask;
        _progIf = progIf;
    }

    public string Text { get; }

    /// <summary>Parses one filter entry or throws InvalidPciFilter with lspci's own reason.</summary>
    public static IdFilter Parse(string text)
    {
        var entry = text.Trim();
        if (entry.Length > MaxLength)
        {
            throw Invalid(text, "Expression too long");
        }

        var fields = entry.Split(':');
        if (fields.Length > 4)
        {
            throw Invalid(text, "Too many fields");
        }

        if (fields.Length < 2)
        {
            throw Invalid(text, "At least two fields must be given");
        }

        if (!TryField(fields[0], 0xffff, allowX: false, out var vendor, out _))
        {
            throw Invalid(text, "Invalid vendor ID");
        }

        if (!TryField(fields[1], 0xffff, allowX: false, out var device, out _))
        {
            throw Invalid(text, "Invalid device ID");
        }

        var cls = -1;
        var mask = uint.MaxValue;
        if (fields.Length > 2 && !TryField(fields[2], 0xffff, allowX: true, out cls, out mask))
        {
            throw Invalid(text, "Invalid class code");
        }

        var progIf = -1;
        if (fields.Length > 3 && !TryField(fields[3], 0xff, allowX: false, out progIf, out _))
        {
            throw Invalid(text, "Invalid programming interface code");
        }

        return new IdFilter(entry, vendor, device, cls, mask, progIf);
    }

    /// <summary>Parses a list whose entries may themselves be comma-separated, as the probe's :filter: is.</summary>
    public static IReadOnlyList<IdFilter> ParseList(IEnumerable<string> entries)
    {
        var result = new List<IdFilter>();
        foreach (var entry in entries)
        {
            foreach (var part in (entry ?? "").Split(','))
            {
                result.Add(Parse(part));
            }
        }

        return result;
    }

    /// <summary>Matches ids given as numbers; a device whose ids could not be read matches only wildcards.</summary>
    public bool Matches(int? vendor, int? device, int? classCode24)
    {
        if ((_vendor >= 0 && vendor != _vendor) || (_device >= 0 && device != _device))
        {
            return false;
        }

        if (_class >= 0 && (classCode24 is not int c || ((uint)(_class ^ (c >> 8)) & _classMask) != 0))
        {
            return false;
        }

        return _progIf < 0 || (classCode24 is int p && (p & 0xff) == _progIf);
    }

    public override string ToString() => Text;

    // pciutils parse_hex_field: empty or "*" keeps the wildcard; 'x' (class only) masks a digit.
    private static bool TryField(string field, uint max, bool allowX, out int value, out uint mask)
    {
        value = -1;
        mask = uint.MaxValue;
        if (field.Length == 0 || field == "*")
        {
            return true;
        }

        uint outValue = 0, bound = 0;
        foreach (var c in field)
        {
            if ((c == 'x' || c == 'X') && allowX)
            {
                outValue <<= 4;
                bound = (bound << 4) | 1;
                mask <<= 4;
            }
            else
            {
                int d = c switch
                {
                    >= '0' and <= '9' => c - '0',
                    >= 'a' and <= 'f' => c - 'a' + 10,
                    >= 'A' and <= 'F' => c - 'A' + 10,
                    _ => -1,
                };
                if (d < 0)
                {
                    return false;
                }

                outValue = (outValue << 4) | (uint)d;
                bound = (bound << 4) | (uint)d;
                mask = (mask << 4) | 0xf;
            }

            if (bound > max)
            {
                return false;
            }
        }

        value = (int)outValue;
        return true;
    }

    private static PciPassthroughException Invalid(string text, string reason) => ErrorCatalog.InvalidFilter(text, reason);
}
