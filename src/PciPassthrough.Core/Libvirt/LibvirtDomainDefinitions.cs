using System.Globalization;
using System.Xml;
using System.Xml.Linq;
using PciPassthrough.HostFs;

namespace PciPassthrough.Libvirt;

/// <summary>
/// The devices that libvirt's defined QEMU domains name, read from their definitions (<c>/etc/libvirt/qemu/*.xml</c>
/// under the host root), and which of those domains run now (libvirt keeps <c>/run/libvirt/qemu/&lt;name&gt;.pid</c>
/// while a domain runs). A definition that cannot be read or parsed is skipped: it is evidence of nothing.
/// </summary>
internal static class LibvirtDomainDefinitions
{
    public const string DefinitionsPath = "/etc/libvirt/qemu";
    public const string StatusPath = "/run/libvirt/qemu";
    private const int MaxDefinitionBytes = 1 << 20;

    /// <summary>A PCI address (or mdev UUID, lower case) to the defined domains naming it that do not run now.</summary>
    public static IReadOnlyDictionary<string, LibvirtAssignment[]> NotRunning(HostRoot root)
    {
        var result = new Dictionary<string, List<LibvirtAssignment>>(StringComparer.Ordinal);
        foreach (var file in root.ListNames(DefinitionsPath))
        {
            if (!file.EndsWith(".xml", StringComparison.Ordinal))
            {
                continue;
            }

            var path = $"{DefinitionsPath}/{file}";
            if (Read(root, path) is not { } domain || root.Exists($"{StatusPath}/{domain.Name}.pid"))
            {
                continue;
            }

            foreach (var (device, managed) in domain.Devices)
            {
                if (!result.TryGetValue(device, out var list))
                {
                    list = [];
                    result[device] = list;
                }

                if (!list.Exists(a => a.DomainName == domain.Name))
                {
                    list.Add(new LibvirtAssignment(domain.Name, managed, path));
                }
            }
        }

        return result.ToDictionary(kv => kv.Key, kv => kv.Value.OrderBy(a => a.DomainName, StringComparer.Ordinal).ToArray(), StringComparer.Ordinal);
    }

    private static (string Name, List<(string Device, bool Managed)> Devices)? Read(HostRoot root, string hostPath)
    {
        string text;
        try
        {
            text = BoundedFile.ReadText(root.Resolve(hostPath), MaxDefinitionBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PciPassthroughException)
        {
            return null;
        }

        try
        {
            return Parse(text);
        }
        catch (XmlException)
        {
            return null;
        }
    }

    /// <summary>The domain's name and the devices its hostdevs and hostdev interfaces name.</summary>
    internal static (string Name, List<(string Device, bool Managed)> Devices)? Parse(string xml)
    {
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, MaxCharactersInDocument = MaxDefinitionBytes };
        using var reader = XmlReader.Create(new StringReader(xml), settings);
        var domain = XDocument.Load(reader).Root;
        var name = domain?.Name.LocalName == "domain" ? domain.Element("name")?.Value.Trim() : null;
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        var devices = new List<(string, bool)>();
        foreach (var element in domain!.Elements("devices").Elements())
        {
            var assigned = element.Name.LocalName switch
            {
                "hostdev" => (string?)element.Attribute("mode") is null or "subsystem" && (string?)element.Attribute("type") is "pci" or "mdev",
                "interface" => (string?)element.Attribute("type") == "hostdev",
                _ => false,
            };
            if (assigned && element.Element("source")?.Element("address") is { } address && Device(address) is string device)
            {
                devices.Add((device, (string?)element.Attribute("managed") == "yes"));
            }
        }

        return (name, devices);
    }

    /// <summary>A PCI source address (<c>domain bus slot function</c>, hex with 0x) or an mdev's <c>uuid</c>.</summary>
    private static string? Device(XElement address)
    {
        if ((string?)address.Attribute("uuid") is { Length: > 0 } uuid)
        {
            return Guid.TryParse(uuid, out var g) ? g.ToString("D", CultureInfo.InvariantCulture) : null;
        }

        if ((string?)address.Attribute("type") is { } type && type != "pci")
        {
            return null;
        }

        var domain = Number((string?)address.Attribute("domain") ?? "0");
        var bus = Number((string?)address.Attribute("bus"));
        var slot = Number((string?)address.Attribute("slot"));
        var function = Number((string?)address.Attribute("function"));
        return domain is int d && bus is int b && slot is int s && function is int f && d <= 0xffff && b <= 0xff && s <= 0x1f && f <= 7
            ? string.Create(CultureInfo.InvariantCulture, $"{d:x4}:{b:x2}:{s:x2}.{f:x1}")
            : null;
    }

    // libvirt writes 0x-prefixed hex; it also accepts decimal.
    private static int? Number(string? text) =>
        text is null ? null
        : text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? int.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var h) ? h : null
            : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
}
