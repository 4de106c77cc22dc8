using System.Globalization;
using System.Text.RegularExpressions;
using PciPassthrough.Filtering;
using PciPassthrough.HostFs;

namespace PciPassthrough.OpenNebula.Probe;

/// <summary>
/// OpenNebula's PCI monitoring probe (<c>pci.rb</c>), reproduced byte for byte: the devices a
/// <see cref="PciProbeFilter"/> selects, in its order, as <c>PCI = [ ... ]</c> blocks of attributes
/// taken from what <c>lspci -mmnn</c> and sysfs show.
/// </summary>
public sealed class PciProbe
{
    private static readonly TimeSpan RegexBudget = ProbeSelection.RegexBudget;

    private readonly HostRoot _root;
    private readonly ProbeSelection _selection;

    /// <summary>Validates the filter (a bad entry throws before any device is read).</summary>
    public PciProbe(HostRoot root, PciProbeFilter filter)
    {
        _root = root;
        _selection = new ProbeSelection(root, filter);
    }

    /// <summary>The probe's blocks, one per reported device, each without a trailing new line.</summary>
    public IReadOnlyList<string> Run(IEnumerable<PciDevice> devices) =>
        _selection.Select(devices.ToList()).Select(Block).ToList();

    /// <summary>The probe's whole output: every block followed by a new line, as <c>puts</c> writes it.</summary>
    public static string Render(IEnumerable<string> blocks) => string.Concat(blocks.Select(b => b + "\n"));

    /// <summary>lspci -mmnn prints "Name [id]"; pci.rb keeps "Name". Unknown ids already read "Device [id]".</summary>
    public static string LspciName(string? name, string? id)
    {
        var n = name ?? "";
        var suffix = $" [{id}]";
        return id is not null && n.EndsWith(suffix, StringComparison.Ordinal) ? n[..^suffix.Length] : n;
    }

    private string Block(PciDevice d)
    {
        var vendorName = LspciName(d.VendorName, d.VendorId);
        var deviceName = LspciName(d.DeviceName, d.DeviceId);
        var values = new List<string>
        {
            Value("TYPE", $"{d.VendorId}:{d.DeviceId}:{d.Class}"),
            Value("VENDOR", d.VendorId),
            Value("VENDOR_NAME", vendorName),
            Value("DEVICE", d.DeviceId),
            Value("CLASS", d.Class),
            Value("CLASS_NAME", LspciName(d.ClassName, d.Class)),
            Value("ADDRESS", $"{d.Domain}:{d.Bus}:{d.Slot}:{d.Function}"),
            Value("SHORT_ADDRESS", DeviceQuery.LspciSlot(d)),
            Value("DOMAIN", d.Domain),
            Value("BUS", d.Bus),
            Value("SLOT", d.Slot),
            Value("FUNCTION", d.Function),
            Value("NUMA_NODE", NumaNode(d)),
            Value("IFNAME", InterfaceName(d)),
        };

        var isVf = _root.Exists(DevicePath(d, "physfn"));
        if (isVf)
        {
            values.Add(Value("SRIOV", "vf"));
        }
        else if (_root.Exists(DevicePath(d, "sriov_numvfs")) || _root.Exists(DevicePath(d, "sriov_totalvfs")))
        {
            var num = _root.TryReadText(DevicePath(d, "sriov_numvfs"))?.Trim();
            values.Add(Value("SRIOV", "pf"));
            values.Add(Value("SRIOV_NUM", string.IsNullOrEmpty(num) ? "0" : num));
        }
        else
        {
            values.Add(Value("SRIOV", "no"));
        }

        if (!_selection.IsNvidia(d))
        {
            values.Add(Value("DEVICE_NAME", deviceName));
        }
        else if (!isVf)
        {
            values.Add(Value("DEVICE_NAME", $"{vendorName} {deviceName}"));
        }
        else
        {
            var address = $"{d.Domain}:{d.Bus}:{d.Slot}:{d.Function}";
            var mdevBus = "/sys/class/mdev_bus/" + d.PciAddress;
            var profiles = _root.ListNames(mdevBus + "/mdev_supported_types");
            values.Add(Value("DEVICE_NAME", "NVIDIA vGPU device"));
            values.Add(Value("UUID", NameBasedUuid.X500Sha1(address)));
            values.Add(Value("PROFILES", string.Join(",", profiles.Count > 0 ? profiles : NvidiaProfiles(d))));
            values.Add(Value("MDEV_MODE", _root.Exists(mdevBus) ? "legacy" : "nvidia"));
        }

        return "PCI = [\n" + string.Join(",\n", values) + "\n]";
    }

    private string NumaNode(PciDevice d)
    {
        var text = _root.TryReadText(DevicePath(d, "numa_node"))?.Trim();
        return text is null || (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n < 0) ? "-" : text;
    }

    private string InterfaceName(PciDevice d)
    {
        var names = _root.ListNames(DevicePath(d, "net"));
        if (names.Count <= 1)
        {
            return names.Count == 1 ? names[0] : "-";
        }

        return names.FirstOrDefault(n => Regex.IsMatch(_root.TryReadText(DevicePath(d, $"net/{n}/phys_port_name"))?.Trim() ?? "", "^p[0-9]+$", RegexOptions.None, RegexBudget)) ?? "-";
    }

    /// <summary><c>nvidia/creatable_vgpu_types</c> lines "id : name" as "id (name)"; as pci.rb, a malformed line loses them all.</summary>
    private List<string> NvidiaProfiles(PciDevice d)
    {
        var text = _root.TryReadText(DevicePath(d, "nvidia/creatable_vgpu_types"));
        var profiles = new List<string>();
        if (text is null)
        {
            return profiles;
        }

        // Ruby's each_line keeps each line's "\n" and its split(':') drops trailing empty fields.
        foreach (var line in text.Split('\n').Select(l => l + "\n").SkipLast(1).Append(text[(text.LastIndexOf('\n') + 1)..]).Where(l => l.Length > 0))
        {
            var parts = line.Split(':');
            var count = parts.Length;
            while (count > 0 && parts[count - 1].Length == 0)
            {
                count--;
            }

            parts = parts[..count];
            if (parts.Length < 2)
            {
                return [];
            }

            var (id, name) = (parts[0].Trim(), parts[1].Trim());
            if (id.Length > 0 && !id.Equals("ID", StringComparison.OrdinalIgnoreCase) && name.Length > 0)
            {
                profiles.Add($"{id} ({name})");
            }
        }

        return profiles;
    }

    private static string DevicePath(PciDevice d, string name) => ProbeSelection.DevicePath(d, name);

    private static string Value(string name, string? value) => $" {name} = \"{value}\" ";
}
