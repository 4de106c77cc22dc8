using System.Collections.Concurrent;
using System.Text;

namespace PciPassthrough.Ids;

/// <summary>
/// The pci.ids name database (vendors, devices, subsystems, classes, subclasses, programming
/// interfaces), read once per file and version and shared by every cmdlet call of the session.
/// Why lazily: a host names a few dozen of pci.ids' 2,000-odd vendors, and parsing all 37,000 lines into strings
/// was most of a small probe's run and several MiB. Loading keeps the file's bytes and finds where each vendor's
/// block starts; a vendor's devices and subsystems are parsed the first time one of its names is asked for. The
/// small class and <c>S</c> blocks are parsed at once. The names are the same either way: every block goes through
/// the same <see cref="PciIdsParser"/>, in file order.
/// </summary>
public sealed class PciIdDatabase
{
    /// <summary>Where distributions install pci.ids: Debian's pci.ids package, then Fedora's hwdata.</summary>
    public static readonly IReadOnlyList<string> WellKnownPaths = ["/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids"];

    private static readonly ConcurrentDictionary<string, (DateTime Stamp, long Length, PciIdDatabase Db)> Cache = new(StringComparer.Ordinal);
    private static readonly VendorNames NoVendor = new(null, [], []);

    private readonly byte[] _text;
    private readonly Dictionary<int, List<Range>> _vendorBlocks = [];
    private readonly ConcurrentDictionary<int, VendorNames> _vendors = new(); // the scan's threads ask at once
    private readonly PciIdsParser.Tables _others = new();
    private readonly Func<int, VendorNames> _parseVendor;

    private PciIdDatabase(byte[] text, string? sourcePath)
    {
        _parseVendor = ParseVendor;
        _text = text;
        SourcePath = sourcePath;
        Index();
    }

    /// <summary>A database that knows no names: every lookup answers as lspci does for unknown ids.</summary>
    public static PciIdDatabase Empty { get; } = new([], null);

    /// <summary>The file the names came from; null for <see cref="Empty"/>.</summary>
    public string? SourcePath { get; }

    public int VendorCount => _vendorBlocks.Count;

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

        byte[] bytes;
        try
        {
            // Bounded and without blocking (a FIFO or /dev/zero in a tree is refused by name, D16).
            bytes = HostFs.BoundedFile.ReadBytes(info.FullName);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw Unreadable(path, e.Message, e);
        }

        var marked = bytes.AsSpan().StartsWith(HostFs.BoundedFile.Utf8ByteOrderMark);
        var db = new PciIdDatabase(marked ? bytes[HostFs.BoundedFile.Utf8ByteOrderMark.Length..] : bytes, info.FullName);
        Cache[info.FullName] = (info.LastWriteTimeUtc, info.Length, db);
        return db;
    }

    /// <summary>Parses pci.ids lines. Malformed lines are skipped, as lspci skips them.</summary>
    public static PciIdDatabase Parse(IEnumerable<string> lines, string? sourcePath = null) =>
        new(Encoding.UTF8.GetBytes(string.Join('\n', lines)), sourcePath);

    public string? FindVendor(int vendor) => Vendor(vendor).Name;

    public string? FindDevice(int vendor, int device) => Vendor(vendor).Devices.GetValueOrDefault(PciIdsParser.DeviceKey(vendor, device));

    public string? FindSubsystem(int vendor, int device, int subVendor, int subDevice) =>
        Vendor(vendor).Subsystems.GetValueOrDefault(PciIdsParser.SubsystemKey(vendor, device, subVendor, subDevice));

    /// <summary>A name from an <c>S</c> block: the subsystem vendor's name for this subsystem id on any device.</summary>
    public string? FindGenericSubsystem(int subVendor, int subDevice) => _others.GenericSubsystems.GetValueOrDefault(PciIdsParser.DeviceKey(subVendor, subDevice));

    public string? FindClass(int cls) => _others.Classes.GetValueOrDefault(cls);

    public string? FindSubclass(int cls, int subclass) => _others.Subclasses.GetValueOrDefault((cls << 8) | subclass);

    public string? FindProgIf(int cls, int subclass, int progIf) => _others.ProgIfs.GetValueOrDefault((cls << 16) | (subclass << 8) | progIf);

    // Lines split as lspci splits them: at \n only, each ending at its first \r (D21). The top-level lines (a few
    // thousand) are decoded to find the blocks; a vendor block's other lines are only skipped over here.
    private void Index()
    {
        var parser = new PciIdsParser(_others);
        int? vendor = null;
        var blockStart = 0;
        var text = _text.AsSpan();
        for (var start = 0; start < text.Length;)
        {
            var newline = text[start..].IndexOf((byte)'\n');
            var end = newline < 0 ? text.Length : start + newline;
            var line = text[start..end];
            var cr = line.IndexOf((byte)'\r');
            line = cr < 0 ? line : line[..cr];
            var lineStart = start;
            start = end + 1;
            if (vendor is not null && (line.IsEmpty || line[0] is (byte)'\t' or (byte)'#'))
            {
                continue; // inside a vendor block: parsed when the vendor is first asked for
            }

            var decoded = Encoding.UTF8.GetString(line);
            if (!PciIdsParser.IsTopLevel(decoded, out var startsVendor))
            {
                parser.Feed(decoded); // a line of a class, S or skipped block, or nothing
                continue;
            }

            if (vendor is int open)
            {
                AddBlock(open, blockStart, lineStart);
            }

            vendor = startsVendor;
            blockStart = lineStart;
            if (vendor is null)
            {
                parser.Feed(decoded);
            }
        }

        if (vendor is int last)
        {
            AddBlock(last, blockStart, text.Length);
        }
    }

    private void AddBlock(int vendor, int start, int end)
    {
        if (!_vendorBlocks.TryGetValue(vendor, out var blocks))
        {
            _vendorBlocks[vendor] = blocks = [];
        }

        blocks.Add(start..end);
    }

    // Every device name asks: a parsed vendor is one lookup, without a delegate per call.
    private VendorNames Vendor(int vendor) =>
        _vendors.TryGetValue(vendor, out var names) ? names
        : !_vendorBlocks.ContainsKey(vendor) ? NoVendor
        : _vendors.GetOrAdd(vendor, _parseVendor);

    // A vendor may have more than one block: parsed in file order into the same tables, so the last name wins and
    // the devices add up, as when the whole file was parsed.
    private VendorNames ParseVendor(int vendor)
    {
        var tables = new PciIdsParser.Tables();
        var parser = new PciIdsParser(tables);
        foreach (var block in _vendorBlocks[vendor])
        {
            var lines = Encoding.UTF8.GetString(_text.AsSpan(block)).AsSpan();
            while (!lines.IsEmpty)
            {
                var newline = lines.IndexOf('\n');
                var line = newline < 0 ? lines : lines[..newline];
                lines = newline < 0 ? [] : lines[(newline + 1)..];
                var cr = line.IndexOf('\r');
                parser.Feed(cr < 0 ? line : line[..cr]);
            }
        }

        return new VendorNames(tables.Vendors.GetValueOrDefault(vendor), tables.Devices, tables.Subsystems);
    }

    private static PciPassthroughException Unreadable(string path, string reason, Exception? inner) => ErrorCatalog.PciIdsUnreadable(path, reason, inner);

    private sealed record VendorNames(string? Name, Dictionary<int, string> Devices, Dictionary<long, string> Subsystems);
}
