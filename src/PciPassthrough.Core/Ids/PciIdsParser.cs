using System.Globalization;

namespace PciPassthrough.Ids;

/// <summary>
/// pci.ids lines as lspci reads them (pciutils lib/names-parse.c), fed one at a time into the tables they fill.
/// Malformed lines are skipped, as lspci skips them; a block other than vendors, classes and <c>S</c> (generic
/// subsystems) is skipped with its lines.
/// </summary>
internal sealed class PciIdsParser(PciIdsParser.Tables tables)
{
    private Block _block = Block.None;
    private int _vendor = -1, _device = -1, _class = -1, _subclass = -1;

    /// <summary>Where parsed names go. Vendor blocks fill the first three, the other blocks the rest.</summary>
    internal sealed class Tables
    {
        public Dictionary<int, string> Vendors { get; } = [];
        public Dictionary<int, string> Devices { get; } = [];
        public Dictionary<long, string> Subsystems { get; } = [];
        public Dictionary<int, string> GenericSubsystems { get; } = [];
        public Dictionary<int, string> Classes { get; } = [];
        public Dictionary<int, string> Subclasses { get; } = [];
        public Dictionary<int, string> ProgIfs { get; } = [];
    }

    public static int DeviceKey(int vendor, int device) => (vendor << 16) | device;

    public static long SubsystemKey(int vendor, int device, int subVendor, int subDevice) =>
        ((long)vendor << 48) | ((long)device << 32) | ((long)subVendor << 16) | (uint)subDevice;

    /// <summary>
    /// Whether a line ends the block before it: not empty, not a comment, not white space alone, and not indented.
    /// The vendor id when it starts a vendor block.
    /// </summary>
    public static bool IsTopLevel(ReadOnlySpan<char> raw, out int? vendor)
    {
        vendor = null;
        if (raw.IsEmpty || raw[0] == '#' || raw[0] == '\t')
        {
            return false;
        }

        var body = raw.TrimEnd();
        if (body.IsEmpty)
        {
            return false;
        }

        if (KindOfTopLevel(body) == Block.Vendor && TryIdName(body, 4, out var id, out _))
        {
            vendor = id;
        }

        return true;
    }

    public void Feed(ReadOnlySpan<char> raw)
    {
        if (raw.IsEmpty || raw[0] == '#')
        {
            return;
        }

        var line = raw.TrimEnd();
        if (line.IsEmpty)
        {
            return;
        }

        var tabs = 0;
        while (tabs < line.Length && line[tabs] == '\t')
        {
            tabs++;
        }

        var body = line[tabs..];
        if (tabs == 0)
        {
            StartBlock(body);
            return;
        }

        switch (tabs)
        {
            case 1 when _block == Block.Vendor && TryIdName(body, 4, out _device, out var deviceName):
                tables.Devices[DeviceKey(_vendor, _device)] = deviceName;
                break;
            case 1 when _block == Block.GenericSubsystem && TryIdName(body, 4, out var genericDevice, out var genericName):
                tables.GenericSubsystems[DeviceKey(_vendor, genericDevice)] = genericName;
                break;
            case 1 when _block == Block.Class && TryIdName(body, 2, out _subclass, out var subclassName):
                tables.Subclasses[(_class << 8) | _subclass] = subclassName;
                break;
            case 2 when _block == Block.Vendor && _device >= 0 && TrySubsystem(body, out var sv, out var sd, out var subName):
                tables.Subsystems[SubsystemKey(_vendor, _device, sv, sd)] = subName;
                break;
            case 2 when _block == Block.Class && _subclass >= 0 && TryIdName(body, 2, out var progIf, out var progIfName):
                tables.ProgIfs[(_class << 16) | (_subclass << 8) | progIf] = progIfName;
                break;
        }
    }

    private void StartBlock(ReadOnlySpan<char> body)
    {
        _block = KindOfTopLevel(body);
        switch (_block)
        {
            case Block.Class:
                _subclass = -1;
                if (TryIdName(body[2..], 2, out _class, out var className))
                {
                    tables.Classes[_class] = className;
                }
                else
                {
                    _block = Block.Skip;
                }

                break;
            case Block.GenericSubsystem:
                _ = TryHex(body[2..], out _vendor); // "S vvvv": generic subsystem names of that subsystem vendor, for any device
                break;
            case Block.Vendor:
                _device = -1;
                if (TryIdName(body, 4, out _vendor, out var vendorName))
                {
                    tables.Vendors[_vendor] = vendorName;
                }
                else
                {
                    _block = Block.Skip;
                }

                break;
        }
    }

    private static Block KindOfTopLevel(ReadOnlySpan<char> body) =>
        body.Length > 2 && body[0] == 'C' && body[1] == ' ' ? Block.Class
        : body.Length == 6 && body[0] == 'S' && body[1] == ' ' && TryHex(body[2..], out _) ? Block.GenericSubsystem
        : body.Length > 1 && char.IsAsciiLetterUpper(body[0]) && body[1] == ' ' ? Block.Skip // a block pciutils reserves for future use
        : Block.Vendor;

    // "vvvv  Name": exactly `digits` hex digits, then white space, then the name.
    private static bool TryIdName(ReadOnlySpan<char> body, int digits, out int id, out string name)
    {
        id = -1;
        name = "";
        if (body.Length <= digits + 1 || !char.IsWhiteSpace(body[digits])
            || !int.TryParse(body[..digits], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out id))
        {
            return false;
        }

        var rest = body[digits..].Trim();
        if (rest.IsEmpty)
        {
            return false;
        }

        name = rest.ToString();
        return true;
    }

    private static bool TryHex(ReadOnlySpan<char> digits, out int value) =>
        int.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);

    private static bool TrySubsystem(ReadOnlySpan<char> body, out int subVendor, out int subDevice, out string name)
    {
        subDevice = -1;
        name = "";
        if (!TryIdName(body, 4, out subVendor, out var rest) || rest.Length < 5)
        {
            return false;
        }

        return TryIdName(rest.AsSpan(), 4, out subDevice, out name);
    }

    private enum Block
    {
        None,
        Vendor,
        Class,
        GenericSubsystem,
        Skip,
    }
}
