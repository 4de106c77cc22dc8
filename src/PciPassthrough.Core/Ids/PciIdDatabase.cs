using System.Collections.Concurrent;
using System.Globalization;

namespace PciPassthrough.Ids;

/// <summary>
/// The pci.ids name database (vendors, devices, subsystems, classes, subclasses, programming
/// interfaces), parsed once per file and version and shared by every cmdlet call of the session.
/// </summary>
public sealed class PciIdDatabase
{
    /// <summary>Where distributions install pci.ids: Debian's pci.ids package, then Fedora's hwdata.</summary>
    public static readonly IReadOnlyList<string> WellKnownPaths = ["/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids"];

    private static readonly ConcurrentDictionary<string, (DateTime Stamp, long Length, PciIdDatabase Db)> Cache = new(StringComparer.Ordinal);

    private readonly Dictionary<int, string> _vendors = [];
    private readonly Dictionary<int, string> _devices = [];
    private readonly Dictionary<long, string> _subsystems = [];
    private readonly Dictionary<int, string> _genericSubsystems = [];
    private readonly Dictionary<int, string> _classes = [];
    private readonly Dictionary<int, string> _subclasses = [];
    private readonly Dictionary<int, string> _progIfs = [];

    private PciIdDatabase(string? sourcePath) => SourcePath = sourcePath;

    /// <summary>A database that knows no names: every lookup answers as lspci does for unknown ids.</summary>
    public static PciIdDatabase Empty { get; } = new(null);

    /// <summary>The file the names came from; null for <see cref="Empty"/>.</summary>
    public string? SourcePath { get; }

    public int VendorCount => _vendors.Count;

    /// <summary>Loads a pci.ids file, reusing the parsed copy while the file is unchanged.</summary>
    public static PciIdDatabase Load(string path)
    {
        FileInfo info;
        try
        {
            info = new FileInfo(path);
            if (!info.Exists)
            {
                throw Unreadable(path, "it does not exist", null);
            }
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException or ArgumentException)
        {
            throw Unreadable(path, e.Message, e);
        }

        if (Cache.TryGetValue(info.FullName, out var hit) && hit.Stamp == info.LastWriteTimeUtc && hit.Length == info.Length)
        {
            return hit.Db;
        }

        IEnumerable<string> lines;
        try
        {
            // Bounded and without blocking (a FIFO or /dev/zero in a tree is refused by name, D16), and
            // split as lspci splits: at \n only, each line ending at its first \r (D21).
            lines = Lines(HostFs.BoundedFile.ReadText(info.FullName));
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw Unreadable(path, e.Message, e);
        }

        var db = Parse(lines, info.FullName);
        Cache[info.FullName] = (info.LastWriteTimeUtc, info.Length, db);
        return db;
    }

    private static IEnumerable<string> Lines(string text)
    {
        foreach (var line in text.Split('\n'))
        {
            var cr = line.IndexOf('\r', StringComparison.Ordinal);
            yield return cr < 0 ? line : line[..cr];
        }
    }

    /// <summary>Parses pci.ids text. Malformed lines are skipped, as lspci skips them.</summary>
    public static PciIdDatabase Parse(IEnumerable<string> lines, string? sourcePath = null)
    {
        var db = new PciIdDatabase(sourcePath);
        var block = Block.None;
        int vendor = -1, device = -1, cls = -1, subclass = -1;
        foreach (var raw in lines)
        {
            if (raw.Length == 0 || raw[0] == '#')
            {
                continue;
            }

            var line = raw.AsSpan().TrimEnd();
            if (line.Length == 0)
            {
                continue;
            }

            var tabs = 0;
            while (tabs < line.Length && line[tabs] == '\t')
            {
                tabs++;
            }

            var body = line[tabs..];
            switch (tabs)
            {
                case 0 when body.Length > 2 && body[0] == 'C' && body[1] == ' ':
                    block = TryIdName(body[2..], 2, out cls, out var className) ? Block.Class : Block.Skip;
                    subclass = -1;
                    if (block == Block.Class) db._classes[cls] = className;
                    break;
                case 0 when body.Length == 6 && body[0] == 'S' && body[1] == ' ' && TryHex(body[2..], out vendor):
                    // "S vvvv": generic subsystem names of that subsystem vendor, for any device.
                    block = Block.GenericSubsystem;
                    break;
                case 0 when body.Length > 1 && char.IsAsciiLetterUpper(body[0]) && body[1] == ' ':
                    block = Block.Skip; // a block pciutils reserves for future use; its lines are skipped
                    break;
                case 0 when TryIdName(body, 4, out vendor, out var vendorName):
                    block = Block.Vendor;
                    device = -1;
                    db._vendors[vendor] = vendorName;
                    break;
                case 0:
                    block = Block.Skip;
                    break;
                case 1 when block == Block.Vendor && TryIdName(body, 4, out device, out var deviceName):
                    db._devices[(vendor << 16) | device] = deviceName;
                    break;
                case 1 when block == Block.GenericSubsystem && TryIdName(body, 4, out var genericDevice, out var genericName):
                    db._genericSubsystems[(vendor << 16) | genericDevice] = genericName;
                    break;
                case 1 when block == Block.Class && TryIdName(body, 2, out subclass, out var subclassName):
                    db._subclasses[(cls << 8) | subclass] = subclassName;
                    break;
                case 2 when block == Block.Vendor && device >= 0 && TrySubsystem(body, out var sv, out var sd, out var subName):
                    db._subsystems[SubsystemKey(vendor, device, sv, sd)] = subName;
                    break;
                case 2 when block == Block.Class && subclass >= 0 && TryIdName(body, 2, out var progIf, out var progIfName):
                    db._progIfs[(cls << 16) | (subclass << 8) | progIf] = progIfName;
                    break;
            }
        }

        return db;
    }

    public string? FindVendor(int vendor) => _vendors.GetValueOrDefault(vendor);

    public string? FindDevice(int vendor, int device) => _devices.GetValueOrDefault((vendor << 16) | device);

    public string? FindSubsystem(int vendor, int device, int subVendor, int subDevice) =>
        _subsystems.GetValueOrDefault(SubsystemKey(vendor, device, subVendor, subDevice));

    /// <summary>A name from an <c>S</c> block: the subsystem vendor's name for this subsystem id on any device.</summary>
    public string? FindGenericSubsystem(int subVendor, int subDevice) => _genericSubsystems.GetValueOrDefault((subVendor << 16) | subDevice);

    public string? FindClass(int cls) => _classes.GetValueOrDefault(cls);

    public string? FindSubclass(int cls, int subclass) => _subclasses.GetValueOrDefault((cls << 8) | subclass);

    public string? FindProgIf(int cls, int subclass, int progIf) => _progIfs.GetValueOrDefault((cls << 16) | (subclass << 8) | progIf);

    private static long SubsystemKey(int vendor, int device, int subVendor, int subDevice) =>
        ((long)vendor << 48) | ((long)device << 32) | ((long)subVendor << 16) | (uint)subDevice;

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

    private static PciPassthroughException Unreadable(string path, string reason, Exception? inner) => ErrorCatalog.PciIdsUnreadable(path, reason, inner);

    private enum Block
    {
        None,
        Vendor,
        Class,
        GenericSubsystem,
        Skip,
    }
}
