using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace PciPassthrough.OpenNebula.Templates;

/// <summary>
/// One <c>PCI = [ ... ]</c> section of an OpenNebula VM template: a device request by
/// VENDOR/DEVICE/CLASS (any non-empty subset), by SHORT_ADDRESS, or, with TYPE = "NIC", an SR-IOV NIC
/// attached to a network. A section keeps every attribute it was given, in order and with its value as
/// written (<see cref="ToString"/> writes them back, <see cref="PciTemplateReader"/> reads them again),
/// except the attributes OpenNebula fills on allocation, which it removes as OpenNebula does.
/// <see cref="FromAttributes"/> checks exactly what OpenNebula's check_pci_attributes checks, with its
/// messages; <see cref="Create"/> (New-PciTemplateSection) also applies the module's own checks and
/// writes hex ids as 4 lowercase digits.
/// </summary>
public sealed partial class PciTemplateSection
{
    public const string NicType = "NIC";
    public const string MissingSelectorMessage = "SHORT_ADDRESS, DEVICE, VENDOR or CLASS must be defined for PCI.";
    public const string AddressWithIdsMessage = "SHORT_ADDRESS cannot be set with DEVICE, VENDOR or CLASS";
    public const string RootModeMessage = "Unknown PCI root mode, has to be SHARED or DEDICATED";
    public const string AcpiNodesMessage = "Invalid nodeset specification in ACPI_NODES";
    public const string VmBusMessage = "Wrong VM_BUS in PCI attribute";

    /// <summary>
    /// The attributes OpenNebula fills on allocation and placement; a section read from a template drops
    /// them (OpenNebula removes or overwrites them). VM_BUS is not among them: a user's VM_BUS overrides
    /// the passthrough bus.
    /// </summary>
    public static readonly IReadOnlyList<string> AllocationAttributes =
    [
        "DOMAIN", "BUS", "SLOT", "FUNCTION", "ADDRESS", "PREV_ADDRESS", "NUMA_NODE", "UUID", "MDEV_MODE",
        "VM_DOMAIN", "VM_SLOT", "VM_FUNCTION", "VM_ADDRESS", "PCI_ID",
    ];

    /// <summary>The attributes the module knows the meaning of; any other attribute is kept as it is.</summary>
    public static readonly IReadOnlyList<string> KnownAttributes =
    [
        "NETWORK", "NETWORK_UNAME", "TYPE", "SHORT_ADDRESS", "VENDOR", "DEVICE", "CLASS", "MAC", "VLAN_ID", "SPOOFCHK", "TRUST", "IP", "IPV6",
        "ROOT", "ACPI_NODES", "VM_BUS", "VM_BUS_INDEX", "IOMMUFD", "PROFILE",
    ];

    private static readonly string[] IdAttributes = ["VENDOR", "DEVICE", "CLASS"];
    private static readonly string[] NicOnlyAttributes = ["NETWORK", "NETWORK_UNAME", "MAC", "VLAN_ID", "SPOOFCHK", "TRUST", "IP", "IPV6"];

    private readonly List<KeyValuePair<string, string>> _attributes;
    private readonly List<string> _removed;

    private PciTemplateSection(List<KeyValuePair<string, string>> attributes, List<string> removed)
    {
        _attributes = attributes;
        _removed = removed;
        VendorId = HexId(Value("VENDOR"));
        DeviceId = HexId(Value("DEVICE"));
        Class = HexId(Value("CLASS"));
    }

    /// <summary>VENDOR as 4 lowercase hex digits (more when the value is larger), null when absent.</summary>
    public string? VendorId { get; }

    public string? DeviceId { get; }

    public string? Class { get; }

    /// <summary>SHORT_ADDRESS as written; OpenNebula compares it with lspci's slot string exactly.</summary>
    public string? ShortAddress => Value("SHORT_ADDRESS");

    /// <summary>TYPE as written (<c>NIC</c> for a NIC section).</summary>
    public string? Type => Value("TYPE");

    public string? Network => Value("NETWORK");

    public string? NetworkUname => Value("NETWORK_UNAME");

    public string? Mac => Value("MAC");

    public string? VlanId => Value("VLAN_ID");

    public string? SpoofCheck => Value("SPOOFCHK");

    public string? Trust => Value("TRUST");

    public string? Ip => Value("IP");

    public string? Ip6 => Value("IPV6") ?? Value("IP6");

    /// <summary>ROOT: SHARED or DEDICATED (any case), the pcie-expander-bus sharing of a NUMA-pinned VM.</summary>
    public string? Root => Value("ROOT");

    public bool IsDedicatedRoot => string.Equals(Root, "DEDICATED", StringComparison.OrdinalIgnoreCase);

    /// <summary>ACPI_NODES: the nodeset written to the hostdev's &lt;acpi nodeset=.../&gt;.</summary>
    public string? AcpiNodes => Value("ACPI_NODES");

    /// <summary>VM_BUS: the guest bus, overriding the passthrough bus (PCI_PASSTHROUGH_BUS).</summary>
    public string? VmBus => Value("VM_BUS");

    public string? Iommufd => Value("IOMMUFD");

    /// <summary>True when IOMMUFD is YES (any case): the hostdev gets &lt;driver iommufd='yes'/&gt;.</summary>
    public bool UsesIommufd => string.Equals(Iommufd, "YES", StringComparison.OrdinalIgnoreCase);

    public string? Profile => Value("PROFILE");

    /// <summary>The allocation attributes the input carried and the section dropped, in input order.</summary>
    public IReadOnlyList<string> RemovedAttributes => _removed;

    public bool IsNic => string.Equals(Type, NicType, StringComparison.OrdinalIgnoreCase);

    /// <summary>A request by SHORT_ADDRESS alone (OpenNebula's first pass).</summary>
    public bool IsAddressRequest => !string.IsNullOrEmpty(ShortAddress) && VendorId is null && DeviceId is null && Class is null;

    /// <summary>
    /// The value of an attribute (name case-insensitive), null when absent. A method, not an indexer: an
    /// indexer is a property named Item, which PowerShell arrays hide.
    /// </summary>
    public string? Attribute(string name) => Value(name);

    /// <summary>The attributes as the template writes them, in the order they were given.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Attributes() => _attributes;

    /// <summary>
    /// A copy with <paramref name="name"/> set to <paramref name="value"/>: replaced in place when present,
    /// else appended. Not checked again beyond OpenNebula's checks.
    /// </summary>
    public PciTemplateSection With(string name, string value)
    {
        var upper = name.ToUpperInvariant();
        var list = _attributes.ToList();
        var i = list.FindIndex(a => a.Key == upper);
        if (i >= 0)
        {
            list[i] = new(upper, value);
        }
        else
        {
            list.Add(new(upper, value));
        }

        return FromAttributes(list.Select(a => new KeyValuePair<string, string?>(a.Key, a.Value)));
    }

    /// <summary><c>PCI = [ VENDOR = "10de", DEVICE = "1eb8" ]</c>; quotes and backslashes are escaped.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("PCI = [ ");
        var first = true;
        foreach (var (name, value) in _attributes)
        {
            sb.Append(first ? "" : ", ").Append(name).Append(" = \"").Append(value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
            first = false;
        }

        return sb.Append(" ]").ToString();
    }

    /// <summary>Several sections as template text, one per line, in the given order.</summary>
    public static string Render(IEnumerable<PciTemplateSection> sections) =>
        string.Concat(sections.Select(s => s.ToString() + "\n"));

    /// <summary>
    /// Builds a section as OpenNebula reads one: names are upper-cased, values kept as given, allocation
    /// attributes dropped, then check_pci_attributes' checks with its messages (VENDOR, DEVICE, CLASS hex;
    /// a selector; SHORT_ADDRESS alone; ROOT; ACPI_NODES; VM_BUS). <paramref name="where"/> prefixes messages.
    /// </summary>
    public static PciTemplateSection FromAttributes(IEnumerable<KeyValuePair<string, string?>> attributes, string? where = null)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        var list = new List<KeyValuePair<string, string>>();
        var removed = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (rawName, value) in attributes)
        {
            if (value is null)
            {
                continue;
            }

            var name = rawName.ToUpperInvariant();
            if (!seen.Add(name))
            {
                throw Invalid(where, $"{name} is given twice.", "Give each attribute once per PCI section.", name);
            }

            if (AllocationAttributes.Contains(name))
            {
                removed.Add(name);
                continue;
            }

            list.Add(new(name, value));
        }

        var s = new PciTemplateSection(list, removed);
        s.Check(where);
        return s;
    }

    /// <summary>
    /// Builds a section for New-PciTemplateSection: OpenNebula's checks plus the module's own (an allocation
    /// attribute, an unknown attribute, NIC attributes without TYPE = "NIC", a MAC, VLAN_ID, IP, IPV6 or
    /// YES/NO value that is not one), with hex ids as 4 lowercase digits, SHORT_ADDRESS as lspci's slot string,
    /// TYPE, SPOOFCHK and TRUST upper case.
    /// </summary>
    public static PciTemplateSection Create(IEnumerable<KeyValuePair<string, string?>> attributes, string? where = null)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        var normalized = new List<KeyValuePair<string, string?>>();
        foreach (var (rawName, rawValue) in attributes)
        {
            if (rawValue is null)
            {
                continue;
            }

            var name = rawName.ToUpperInvariant();
            CheckText(where, name, rawValue);
            var value = rawValue.Trim();
            var text = name switch
            {
                "VENDOR" or "DEVICE" or "CLASS" => Hex4(where, name, value),
                "SHORT_ADDRESS" => Slot(where, value),
                "TYPE" => NicTypeOf(where, value),
                "NETWORK" or "NETWORK_UNAME" => NonEmpty(where, name, value),
                "MAC" => MacOf(where, value),
                "VLAN_ID" => VlanOf(where, value),
                "SPOOFCHK" or "TRUST" => YesNo(where, name, value),
                "IP" => IpOf(where, name, value, AddressFamily.InterNetwork),
                "IPV6" or "IP6" => IpOf(where, "IPV6", value, AddressFamily.InterNetworkV6),
                _ when AllocationAttributes.Contains(name) => throw Invalid(where, $"{name} is set by OpenNebula when it allocates the device; a template may not set it.", $"Remove {name}; request the device by SHORT_ADDRESS or VENDOR/DEVICE/CLASS.", name),
                _ when KnownAttributes.Contains(name) => value,
                _ => throw Invalid(where, $"Unknown PCI attribute {name}.", "Use " + string.Join(", ", KnownAttributes) + ".", name),
            };
            normalized.Add(new(name == "IP6" ? "IPV6" : name, text));
        }

        var s = FromAttributes(normalized, where);
        s.CheckNic(where);
        return s;
    }

    private string? Value(string name)
    {
        var upper = name.ToUpperInvariant();
        foreach (var (n, v) in _attributes)
        {
            if (n == upper)
            {
                return v;
            }
        }

        return null;
    }

    // OpenNebula's check_pci_attributes, in its order. An empty value counts as absent, as vector_value
    // returns "" for both.
    private void Check(string? where)
    {
        var anyId = false;
        foreach (var name in IdAttributes)
        {
            var v = Value(name);
            if (string.IsNullOrEmpty(v))
            {
                continue;
            }

            if (ParseHex(v) is null)
            {
                throw Invalid(where, $"Wrong Hex value for PCI attribute {name}", $"Give {name} in hexadecimal, as lspci -n prints it (for example 10de).", v);
            }

            anyId = true;
        }

        var hasAddress = !string.IsNullOrEmpty(ShortAddress);
        if (!hasAddress && !anyId)
        {
            throw Invalid(where, MissingSelectorMessage, "Request a device by SHORT_ADDRESS, or by any of VENDOR, DEVICE and CLASS.", null);
        }

        if (hasAddress && anyId)
        {
            throw Invalid(where, AddressWithIdsMessage, "Request a device either by SHORT_ADDRESS alone or by VENDOR/DEVICE/CLASS.", ShortAddress);
        }

        if (!string.IsNullOrEmpty(Root) && !string.Equals(Root, "SHARED", StringComparison.OrdinalIgnoreCase) && !IsDedicatedRoot)
        {
            throw Invalid(where, RootModeMessage, "Give ROOT as SHARED (the default) or DEDICATED.", Root);
        }

        if (!string.IsNullOrEmpty(AcpiNodes) && !IsNodeset(AcpiNodes))
        {
            throw Invalid(where, AcpiNodesMessage, "Give ACPI_NODES as NUMA node numbers and ranges, for example 0,1-3.", AcpiNodes);
        }

        if (!string.IsNullOrEmpty(VmBus) && ParseHex(VmBus) is null)
        {
            throw Invalid(where, VmBusMessage, "Give VM_BUS as a hexadecimal bus number, for example 0x06.", VmBus);
        }
    }

    private void CheckNic(string? where)
    {
        if (IsNic && Network is null)
        {
            throw Invalid(where, "A PCI section with TYPE = \"NIC\" needs NETWORK.", "Name the virtual network with -Network.", null);
        }

        if (!IsNic)
        {
            foreach (var name in NicOnlyAttributes.Where(n => Value(n) is not null))
            {
                throw Invalid(where, $"{name} is a NIC attribute, but this PCI section is not a NIC (TYPE = \"NIC\").", "Give -Network to make the section a NIC, or leave out the NIC attributes.", name);
            }
        }
    }

    /// <summary>
    /// A hex number as OpenNebula reads one (<c>istringstream &gt;&gt; hex</c> into an unsigned int, the
    /// whole text consumed): optional leading white space, an optional 0x, hex digits, at most 32 bits.
    /// </summary>
    public static uint? ParseHex(string? text)
    {
        var m = text is null ? null : OneHexPattern().Match(text);
        return m is { Success: true } && uint.TryParse(m.Groups[1].Value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    private static string? HexId(string? text) =>
        string.IsNullOrEmpty(text) ? null : ParseHex(text)?.ToString("x4", CultureInfo.InvariantCulture);

    /// <summary>A nodeset as in 0,1-3: comma-separated node numbers and ascending ranges.</summary>
    public static bool IsNodeset(string text)
    {
        if (!NodesetPattern().IsMatch(text))
        {
            return false;
        }

        foreach (var part in text.Split(','))
        {
            var ends = part.Split('-');
            if (ends.Length == 2 && (!int.TryParse(ends[0], CultureInfo.InvariantCulture, out var a) || !int.TryParse(ends[1], CultureInfo.InvariantCulture, out var b) || a > b))
            {
                return false;
            }

            if (ends.Any(e => !int.TryParse(e, CultureInfo.InvariantCulture, out _)))
            {
                return false;
            }
        }

        return true;
    }

    private static void CheckText(string? where, string name, string value)
    {
        if (value.Length > 1024 || value.Any(c => c is '"' or '\\' || char.IsControl(c)))
        {
            throw Invalid(where, $"The value of {name} holds a quote, a backslash, a control character or more than 1024 characters.", "Give plain text values.", value.Length > 64 ? value[..64] : value);
        }
    }

    private static string Hex4(string? where, string name, string value)
    {
        if (!HexPattern().IsMatch(value))
        {
            throw Invalid(where, $"Wrong Hex value for PCI attribute {name}", $"Give {name} as up to 4 hexadecimal digits, as lspci -n prints it (for example 10de).", value);
        }

        return int.Parse(value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture).ToString("x4", CultureInfo.InvariantCulture);
    }

    private static string Slot(string? where, string value)
    {
        if (!SlotPattern().IsMatch(value) || !PciAddress.TryParse(value, out var address))
        {
            throw Invalid(where, $"SHORT_ADDRESS '{value}' is not a PCI slot.", "Give SHORT_ADDRESS as lspci prints the slot: BB:SS.F (for example 04:00.0), or DDDD:BB:SS.F outside domain 0000.", value);
        }

        return address.ToLspciSlot();
    }

    private static string NicTypeOf(string? where, string value) =>
        string.Equals(value, NicType, StringComparison.OrdinalIgnoreCase)
            ? NicType
            : throw Invalid(where, $"TYPE '{value}' is not a PCI section type.", "TYPE may only be \"NIC\" (give -Network); leave it out for a plain device.", value);

    private static string NonEmpty(string? where, string name, string value) =>
        value.Length > 0 ? value : throw Invalid(where, $"{name} is empty.", $"Give {name} a value or leave it out.", name);

    private static string MacOf(string? where, string value) =>
        MacPattern().IsMatch(value)
            ? value.ToLowerInvariant()
            : throw Invalid(where, $"MAC '{value}' is not a MAC address.", "Give six hex octets separated by colons, for example 02:00:c0:a8:01:05.", value);

    private static string VlanOf(string? where, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id <= 4095
            ? id.ToString(CultureInfo.InvariantCulture)
            : throw Invalid(where, $"VLAN_ID '{value}' is not a VLAN id.", "Give a VLAN id from 0 to 4095.", value);

    private static string YesNo(string? where, string name, string value) =>
        value.ToUpperInvariant() is "YES" or "NO"
            ? value.ToUpperInvariant()
            : throw Invalid(where, $"{name} '{value}' is neither YES nor NO.", $"Give {name} as YES or NO.", value);

    private static string IpOf(string? where, string name, string value, AddressFamily family)
    {
        var ok = family == AddressFamily.InterNetwork
            ? Ipv4Pattern().IsMatch(value) && IPAddress.TryParse(value, out _)
            : value.Contains(':', StringComparison.Ordinal) && IPAddress.TryParse(value, out var v6) && v6.AddressFamily == family;
        return ok ? value : throw Invalid(where, $"{name} '{value}' is not an {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} address.", $"Give {name} as a single address without a prefix length.", value);
    }

    private static PciPassthroughException Invalid(string? where, string message, string action, object? target) =>
        ErrorCatalog.InvalidTemplateSection(where, message, action, target);

    [GeneratedRegex("\\A[ \\t\\n\\v\\f\\r]*(?:0[xX])?([0-9a-fA-F]+)\\z")]
    private static partial Regex OneHexPattern();

    [GeneratedRegex("\\A[0-9]{1,4}(-[0-9]{1,4})?(,[0-9]{1,4}(-[0-9]{1,4})?)*\\z")]
    private static partial Regex NodesetPattern();

    [GeneratedRegex("^[0-9a-fA-F]{1,4}$")]
    private static partial Regex HexPattern();

    [GeneratedRegex("^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]$")]
    private static partial Regex SlotPattern();

    [GeneratedRegex("^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")]
    private static partial Regex MacPattern();

    [GeneratedRegex("^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$")]
    private static partial Regex Ipv4Pattern();
}
