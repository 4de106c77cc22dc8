using System.Globalization;
using System.Xml;
using System.Xml.Linq;

namespace PciPassthrough.OpenNebula.Placement;

/// <summary>Reads hosts from <c>onehost show -x</c> (HOST) or <c>onehost list -x</c> (HOST_POOL) XML.</summary>
public static class HostInventoryXml
{
    /// <summary>Far above any real pool; anything larger is refused before parsing.</summary>
    public const int MaxLength = 64 << 20;

    public static IReadOnlyList<PciHostInventory> Read(string xml, string? source = null) => Read(xml, source, null, null);

    /// <summary>
    /// As <see cref="Read(string, string?)"/>, applying each host's TEMPLATE/PCI_FILTER and PCI_SHORT_ADDRESS
    /// (else <paramref name="clusterFilter"/>'s) and taking its TEMPLATE/PCI_GPU_PROFILE (else
    /// <paramref name="clusterGpuProfile"/>).
    /// </summary>
    public static IReadOnlyList<PciHostInventory> Read(string xml, string? source, PciHostFilter? clusterFilter, string? clusterGpuProfile)
    {
        ArgumentNullException.ThrowIfNull(xml);
        var where = source ?? "XML";
        if (xml.Length > MaxLength)
        {
            throw Error(where, $"{where} is {xml.Length} characters long; the limit is {MaxLength}.", null);
        }

        XDocument doc;
        try
        {
            var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, MaxCharactersInDocument = MaxLength };
            EnsureShallow(xml, settings, where);
            using var reader = XmlReader.Create(new StringReader(xml), settings);
            doc = XDocument.Load(reader, LoadOptions.SetLineInfo);
        }
        catch (XmlException e)
        {
            throw Error(where, e.LineNumber > 0 ? $"{where}, line {e.LineNumber}, position {e.LinePosition}: {e.Message}" : $"{where}: {e.Message}", e);
        }

        var root = doc.Root!;
        var hosts = root.Name.LocalName switch
        {
            "HOST" => [root],
            "HOST_POOL" => root.Elements("HOST").ToList(),
            _ => throw Error(where, $"{where}: the root element is <{root.Name.LocalName}>, not <HOST> or <HOST_POOL>.", null),
        };
        return hosts.Select(h =>
        {
            var template = h.Element("TEMPLATE");
            var own = new PciHostFilter(template?.Element("PCI_FILTER")?.Value, template?.Element("PCI_SHORT_ADDRESS")?.Value);
            var filter = (clusterFilter ?? new PciHostFilter(null, null)).Under(own);
            var profile = template?.Element("PCI_GPU_PROFILE")?.Value;
            return Host(h, where).With(filter.IsEmpty ? null : filter, string.IsNullOrWhiteSpace(profile) ? clusterGpuProfile : profile);
        }).ToList();
    }

    /// <summary>How deep elements may nest; onehost's XML nests 6 deep, and deeper nesting costs far more than linear time (D18).</summary>
    public const int MaxDepth = 64;

    // One streaming pass that stops at the first element nested too deep, before a tree is built.
    private static void EnsureShallow(string xml, XmlReaderSettings settings, string where)
    {
        using var reader = XmlReader.Create(new StringReader(xml), settings);
        while (reader.Read())
        {
            if (reader.Depth > MaxDepth)
            {
                var line = ((IXmlLineInfo)reader).LineNumber;
                throw ErrorCatalog.InputTooComplex($"{where}: an element at line {line} nested more than {MaxDepth} deep", $"the limit of {MaxDepth} levels", where);
            }
        }
    }

    private static PciHostInventory Host(XElement host, string where)
    {
        var name = host.Element("NAME")?.Value.Trim();
        var idText = host.Element("ID")?.Value.Trim();
        var at = $"{where}, line {((IXmlLineInfo)host).LineNumber}";
        if (string.IsNullOrEmpty(name))
        {
            throw Error(where, $"{at}: a <HOST> has no <NAME>.", null);
        }

        int? id = null;
        if (idText is not null)
        {
            id = int.TryParse(idText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : throw Error(where, $"{at}: host {name} has ID '{idText}', not a number.", null);
        }

        var pcis = host.Element("HOST_SHARE")?.Element("PCI_DEVICES")?.Elements("PCI") ?? [];
        var devices = pcis.Select(p => Device(p, $"{where}, line {((IXmlLineInfo)p).LineNumber}, host {name}")).ToList();
        try
        {
            return new PciHostInventory(name, id, devices);
        }
        catch (PciPassthroughException e)
        {
            throw Error(where, $"{at}: {e.Message}", e);
        }
    }

    private static PciHostDevice Device(XElement pci, string at)
    {
        string? Text(string element) => pci.Element(element)?.Value.Trim();
        var vmText = Text("VMID");
        var vmId = PciHostDevice.Free;
        if (!string.IsNullOrEmpty(vmText) && !int.TryParse(vmText, NumberStyles.Integer, CultureInfo.InvariantCulture, out vmId))
        {
            throw PciHostDevice.Invalid(at, $"VMID '{vmText}' is not a number.", "VMID is -1 for a free device, else the VM's ID.", vmText);
        }

        int? numa = int.TryParse(Text("NUMA_NODE"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;
        return PciHostDevice.Create(Text("ADDRESS"), Text("VENDOR"), Text("DEVICE"), Text("CLASS"), vmId, numa, Text("DEVICE_NAME"), Text("UUID"), Text("MDEV_MODE"), at);
    }

    private static PciPassthroughException Error(string where, string message, Exception? inner) => ErrorCatalog.InvalidHostInventoryXml(where, message, inner);
}
