using System.Text.RegularExpressions;

namespace PciPassthrough.Filtering;

/// <summary>
/// Which devices a caller wants. The probe-compatible parts apply in OpenNebula's order (id filters,
/// then short addresses, then device-name patterns); the others narrow further. Every part is
/// optional and an empty query keeps every device. Construction validates everything, so a bad
/// pattern fails before any device is read.
/// </summary>
public sealed class DeviceQuery
{
    private static readonly System.Buffers.SearchValues<char> AddressPatternChars = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF:.*?[]-");
    private static readonly Regex ClassPatternShape = new("^[0-9a-fA-Fx*?]{1,6}$", RegexOptions.CultureInvariant);

    private readonly List<IdFilter> _filters = [];
    private readonly HashSet<string> _shortAddresses = new(StringComparer.OrdinalIgnoreCase);
    private NamePatterns _deviceNames = new([], "-DeviceName");
    private readonly List<Glob> _addresses = [];
    private readonly List<Glob> _classes = [];
    private readonly List<Glob> _drivers = [];
    private readonly HashSet<int> _groups = [];

    private readonly List<string> _exactAddresses = [];

    /// <summary>Exact (wildcard-free) addresses asked for; a caller reports each that matched nothing.</summary>
    public IReadOnlyList<string> ExactAddresses => _exactAddresses;

    /// <summary>True when the query names devices only by exact address, so they can be read directly.</summary>
    public bool IsExactAddressesOnly => _exactAddresses.Count > 0 && _exactAddresses.Count == _addresses.Count;

    /// <summary>lspci -d entries; entries may be comma-separated. A device matching any entry is kept.</summary>
    public DeviceQuery WithFilters(IEnumerable<string>? filters)
    {
        if (filters is not null)
        {
            _filters.AddRange(IdFilter.ParseList(filters));
        }

        return this;
    }

    /// <summary>Exact <c>BB:SS.F</c> strings, matched against the lspci slot column as the probe does.</summary>
    public DeviceQuery WithShortAddresses(IEnumerable<string>? shortAddresses)
    {
        foreach (var s in shortAddresses ?? [])
        {
            _shortAddresses.Add(s.Trim());
        }

        return this;
    }

    /// <summary>Case-insensitive, unanchored regular expressions on the device name; any may match.</summary>
    public DeviceQuery WithDeviceNames(IEnumerable<string>? patterns)
    {
        if (patterns is not null)
        {
            _deviceNames = new NamePatterns(patterns, "-DeviceName");
        }

        return this;
    }

    /// <summary>Addresses, full or <c>BB:SS.F</c>, with optional wildcards.</summary>
    public DeviceQuery WithAddresses(IEnumerable<string>? addresses)
    {
        foreach (var raw in addresses ?? [])
        {
            var a = (raw ?? "").Trim();
            if (!Glob.HasWildcards(a))
            {
                var parsed = PciAddress.Parse(a);
                _exactAddresses.Add(a);
                Glob.TryCreate(parsed.ToString(), out var exact);
                _addresses.Add(exact);
                continue;
            }

            if (a.AsSpan().IndexOfAnyExcept(AddressPatternChars) >= 0 || !Glob.TryCreate(a, out var glob))
            {
                throw ErrorCatalog.InvalidAddressPattern(a);
            }

            // A short pattern (BB:SS.F, a bus-sized first field) means domain 0000, as a short exact address does.
            if (a.Count(c => c == ':') == 1 && a.IndexOf(':', StringComparison.Ordinal) <= 2)
            {
                Glob.TryCreate("0000:" + a, out glob);
            }

            _addresses.Add(glob);
        }

        return this;
    }

    /// <summary>4-hex class (or 6-hex class code) patterns; <c>x</c>, <c>?</c> and <c>*</c> are wildcards.</summary>
    public DeviceQuery WithClasses(IEnumerable<string>? classes)
    {
        foreach (var raw in classes ?? [])
        {
            var c = (raw ?? "").Trim();
            if (!ClassPatternShape.IsMatch(c) || (!Glob.HasWildcards(c) && c.Length is not (4 or 6)))
            {
                throw ErrorCatalog.InvalidClassPattern(c);
            }

            Glob.TryCreate(c.Replace('x', '?').Replace('X', '?'), out var glob);
            _classes.Add(glob);
        }

        return this;
    }

    public DeviceQuery WithDrivers(IEnumerable<string>? drivers)
    {
        foreach (var d in drivers ?? [])
        {
            if (!Glob.TryCreate(d.Trim(), out var glob))
            {
                throw ErrorCatalog.InvalidDriverPattern(d);
            }

            _drivers.Add(glob);
        }

        return this;
    }

    public DeviceQuery WithIommuGroups(IEnumerable<int>? groups)
    {
        foreach (var g in groups ?? [])
        {
            _groups.Add(g);
        }

        return this;
    }

    /// <summary>True when the device passes every part of the query.</summary>
    public bool Matches(PciDevice device)
    {
        if (_filters.Count > 0 && !_filters.Exists(f => MatchesFilter(f, device)))
        {
            return false;
        }

        if (_shortAddresses.Count > 0 && !_shortAddresses.Contains(LspciSlot(device)))
        {
            return false;
        }

        if (_deviceNames.Count > 0 && !_deviceNames.AnyMatches(device.DeviceName ?? ""))
        {
            return false;
        }

        if (_addresses.Count > 0 && !_addresses.Exists(a => a.IsMatch(device.PciAddress)))
        {
            return false;
        }

        if (_classes.Count > 0 && !_classes.Exists(c => c.IsMatch(c.Pattern.Length > 4 ? device.ClassCode : device.Class)))
        {
            return false;
        }

        if (_drivers.Count > 0 && !_drivers.Exists(d => d.IsMatch(device.Driver)))
        {
            return false;
        }

        return _groups.Count == 0 || (device.IommuGroup is int g && _groups.Contains(g));
    }

    /// <summary>lspci's slot column (and so OpenNebula's SHORT_ADDRESS): the domain shows outside domain 0.</summary>
    public static string LspciSlot(PciDevice device) =>
        device.Domain == "0000" ? device.ShortAddress : device.PciAddress;

    public static bool MatchesFilter(IdFilter filter, PciDevice device) =>
        filter.Matches(HexOrNull(device.VendorId), HexOrNull(device.DeviceId), HexOrNull(device.ClassCode));

    private static int? HexOrNull(string? hex) =>
        hex is not null && int.TryParse(hex, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : null;
}
