using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace PciPassthrough.OpenNebula.Templates;

/// <summary>
/// One <c>PCI = [ ... ]</c> section of an OpenNebula VM template: a device request by
/// VENDOR/DEVICE/CLASS (any non-empty subset), by SHORT_ADDRESS, or, with TYPE = "NIC", an SR-IOV NIC
/// attached to a network. Instances are always valid: <see cref="FromAttributes"/> applies OpenNebula's
/// checks (with its own messages) and the module's. Hex values are lowercase, 4 digits.
/// <see cref="ToString"/> is the template text; <see cref="PciTemplateReader"/> reads it back.
/// </summary>
public sealed partial class PciTemplateSection
{
    public const string NicType = "NIC";
    public const string MissingSelectorMessage = "SHORT_ADDRESS, DEVICE, VENDOR or CLASS must be defined for PCI.";
    public const string AddressWithIdsMessage = "SHORT_ADDRESS cannot be set with DEVICE, VENDOR or CLASS";

    /// <summary>The attributes OpenNebula fills on allocation; a user may not set them.</summary>
    public static readonly IReadOnlyList<string> AllocationAttributes =
        ["DOMAIN", "BUS", "SLOT", "FUNCTION", "ADDRESS", "PREV_ADDRESS", "NUMA_NODE", "UUID", "MDEV_MODE"];

    /// <summary>The attributes a section may carry, in the order <see cref="ToString"/> writes them.</summary>
    public static readonly IReadOnlyList<string> KnownAttributes =
        ["NETWORK", "NETWORK_UNAME", "TYPE", "SHORT_ADDRESS", "VENDOR", "DEVICE", "CLASS", "MAC", "VLAN_ID", "SPOOFCHK", "TRUST", "IP", "IPV6"];

    private PciTemplateSection()
    {
    }

    public string? VendorId { get; private set; }

    public string? DeviceId { get; private set; }

    public string? Class { get; private set; }

    /// <summary>lspci's slot string: <c>BB:SS.F</c>, or <c>DDDD:BB:SS.F</c> outside domain 0000.</summary>
    public string? ShortAddress { get; private set; }

    /// <summary><c>NIC</c> for a NIC section, else null.</summary>
    public string? Type { get; private set; }

    public string? Network { get; private set; }

    public string? NetworkUname { get; private set; }

    public string? Mac { get; private set; }

    public int? VlanId { get; private set; }

    /// <summary><c>YES</c> or <c>NO</c>.</summary>
    public string? SpoofCheck { get; private set; }

    /// <summary><c>YES</c> or <c>NO</c>.</summary>
    public string? Trust { get; private set; }

    public string? Ip { get; private set; }

    public string? Ip6 { get; private set; }

    public bool IsNic => Type == NicType;

    public bool IsAddressRequest => ShortAddress is not null;

    /// <summary>The attributes as the template writes them, in <see cref="KnownAttributes"/> order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Attributes()
    {
        var list = new List<KeyValuePair<string, string>>();
        void Add(string name, string? value)
        {
            if (value is not null)
            {
                list.Add(new(name, value));
            }
        }

        Add("NETWORK", Network);
        Add("NETWORK_UNAME", NetworkUname);
        Add("TYPE", Type);
        Add("SHORT_ADDRESS", ShortAddress);
        Add("VENDOR", VendorId);
        Add("DEVICE", DeviceId);
        Add("CLASS", Class);
        Add("MAC", Mac);
        Add("VLAN_ID", VlanId?.ToString(CultureInfo.InvariantCulture));
        Add("SPOOFCHK", SpoofCheck);
        Add("TRUST", Trust);
        Add("IP", Ip);
        Add("IPV6", Ip6);
        return list;
    }

    /// <summary><c>PCI = [ VENDOR = "10de", DEVICE = "1eb8" ]</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("PCI = [ ");
        var first = true;
        foreach (var (name, value) in Attributes())
        {
            sb.Append(first ? "" : ", ").Append(name).Append(" = \"").Append(value).Append('"');
            first = false;
        }

        return sb.Append(" ]").ToString();
    }

    /// <summary>Several sections as template text, one per line, in the given order.</summary>
    public static string Render(IEnumerable<PciTemplateSection> sections) =>
        string.Concat(sections.Select(s => s.ToString() + "\n"));

    /// <summary>
    /// Builds a section from attribute names (case-insensitive) and values. Throws InvalidPciTemplateSection
    /// with OpenNebula's own message where OpenNebula has one; <paramref name="where"/> prefixes messages.
    /// </summary>
    public static PciTemplateSection FromAttributes(IEnumerable<KeyValuePair<string, string?>> attributes, string? where = null)
    {
        var s = new PciTemplateSection();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (rawName, rawValue) in attributes)
        {
            if (rawValue is null)
            {
                continue;
            }

            var name = rawName.ToUpperInvariant();
            if (!seen.Add(name == "IP6" ? "IPV6" : name))
            {
                throw Invalid(where, $"{name} is given twice.", "Give each attribute once per PCI section.", name);
            }

            CheckText(where, name, rawValue);
            var value = rawValue.Trim();
            switch (name)
            {
                case "VENDOR": s.VendorId = Hex(where, name, value); break;
                case "DEVICE": s.DeviceId = Hex(where, name, value); break;
                case "CLASS": s.Class = Hex(where, name, value); break;
                case "SHORT_ADDRESS": s.ShortAddress = Slot(where, value); break;
                case "TYPE": s.Type = NicTypeOf(where, value); break;
                case "NETWORK": s.Network = NonEmpty(where, name, value); break;
                case "NETWORK_UNAME": s.NetworkUname = NonEmpty(where, name, value); break;
                case "MAC": s.Mac = MacOf(where, value); break;
                case "VLAN_ID": s.VlanId = VlanOf(where, value); break;
                case "SPOOFCHK": s.SpoofCheck = YesNo(where, name, value); break;
                case "TRUST": s.Trust = YesNo(where, name, value); break;
                case "IP": s.Ip = IpOf(where, name, value, AddressFamily.InterNetwork); break;
                case "IPV6" or "IP6": s.Ip6 = IpOf(where, "IPV6", value, AddressFamily.InterNetworkV6); break;
                default:
                    throw AllocationAttributes.Contains(name)
                        ? Invalid(where, $"{name} is set by OpenNebula when it allocates the device; a template may not set it.", $"Remove {name}; request the device by SHORT_ADDRESS or VENDOR/DEVICE/CLASS.", name)
                        : Invalid(where, $"Unknown PCI attribute {name}.", "Use " + string.Join(", ", KnownAttributes) + ".", name);
            }
        }

        s.CheckCombination(where);
        return s;
    }

    private void CheckCombination(string? where)
    {
        if (ShortAddress is null && VendorId is null && DeviceId is null && Class is null)
        {
            throw Invalid(where, MissingSelectorMessage, "Request a device by -ShortAddress, or by any of -VendorId, -DeviceId and -Class.", null);
        }

        if (ShortAddress is not null && (VendorId is not null || DeviceId is not null || Class is not null))
        {
            throw Invalid(where, AddressWithIdsMessage, "Request a device either by SHORT_ADDRESS alone or by VENDOR/DEVICE/CLASS.", ShortAddress);
        }

        if (IsNic && Network is null)
        {
            throw Invalid(where, "A PCI section with TYPE = \"NIC\" needs NETWORK.", "Name the virtual network with -Network.", null);
        }

        if (!IsNic)
        {
            var nicOnly = new (string Name, object? Value)[] { ("NETWORK", Network), ("NETWORK_UNAME", NetworkUname), ("MAC", Mac), ("VLAN_ID", VlanId), ("SPOOFCHK", SpoofCheck), ("TRUST", Trust), ("IP", Ip), ("IPV6", Ip6) };
            foreach (var (name, value) in nicOnly.Where(a => a.Value is not null))
            {
                throw Invalid(where, $"{name} is a NIC attribute, but this PCI section is not a NIC (TYPE = \"NIC\").", "Give -Network to make the section a NIC, or leave out the NIC attributes.", name);
            }
        }
    }

    private static void CheckText(string? where, string name, string value)
    {
        if (value.Length > 1024 || value.Any(c => c is '"' or '\\' || char.IsControl(c)))
        {
            throw Invalid(where, $"The value of {name} holds a quote, a backslash, a control character or more than 1024 characters.", "Give plain text values.", value.Length > 64 ? value[..64] : value);
        }
    }

    private static string Hex(string? where, string name, string value)
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

    private static int VlanOf(string? where, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id <= 4095
            ? id
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
        new(ErrorIds.InvalidTemplateSection, FailureKind.InvalidArgument, where is null ? message : $"{where}: {message}", action, target);

    [GeneratedRegex("^[0-9a-fA-F]{1,4}$")]
    private static partial Regex HexPattern();

    [GeneratedRegex("^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]$")]
    private static partial Regex SlotPattern();

    [GeneratedRegex("^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")]
    private static partial Regex MacPattern();

    [GeneratedRegex("^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$")]
    private static partial Regex Ipv4Pattern();
}
