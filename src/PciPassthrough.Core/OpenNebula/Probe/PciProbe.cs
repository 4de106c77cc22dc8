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
    private static readonly TimeSpan RegexBudget = TimeSpan.FromSeconds(2);

    private readonly HostRoot _root;
    private readonly IReadOnlyList<IdFilter> _filters;
    private readonly List<Regex> _names = [];
    private readonly HashSet<string> _shortAddresses;
    private readonly HashSet<string> _nvidia;

    /// <summary>Validates the filter (a bad entry throws before any device is read).</summary>
    public PciProbe(HostRoot root, PciProbeFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        _root = root;
        _filters = IdFilter.ParseList(filter.Filter);
        _shortAddresses = new HashSet<string>(filter.ShortAddress, StringComparer.Ordinal);
        _nvidia = new HashSet<string>(filter.NvidiaVendors.Select(v => v.Trim().ToLowerInvariant()), StringComparer.Ordinal);
        foreach (var p in filter.DeviceName)
        {
            try
            {
                _names.Add(new Regex(p, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, RegexBudget));
            }
            catch (ArgumentException e)
            {
                throw new PciPassthroughException(ErrorIds.InvalidDeviceNamePattern, FailureKind.InvalidArgument, $"'{p}' is not a valid regular expression: {e.Message}", "Give :device_name: (-DeviceName) regular expressions, for example 'GK104|A100'; escape literal brackets as \\[.", p, e);
            }
        }
    }

    /// <summary>The probe's blocks, one per reported device, each without a trailing new line.</summary>
    public IReadOnlyList<string> Run(IEnumerable<PciDevice> devices)
    {
        var all = devices.ToList();
        var blocks = new List<string>();
        foreach (var filter in _filters)
        {
            foreach (var device in all.Where(d => DeviceQuery.MatchesFilter(filter, d)))
            {
                if (Reported(device))
                {
                    blocks.Add(Block(device));
                }
            }
        }

        return blocks;
    }

    /// <summary>The probe's whole output: every block followed by a new line, as <c>puts</c> writes it.</summary>
    public static string Render(IEnumerable<string> blocks) => string.Concat(blocks.Select(b => b + "\n"));

    /// <summary>lspci -mmnn prints "Name [id]"; pci.rb keeps "Name". Unknown ids already read "Device [id]".</summary>
    public static string LspciName(string? name, string? id)
    {
        var n = name ?? "";
        var suffix = $" [{id}]";
        return id is not null && n.EndsWith(suffix, StringComparison.Ordinal) ? n[..^suffix.Length] : n;
    }

    private bool Reported(PciDevice d)
    {
        if (_shortAddresses.Count > 0 && !_shortAddresses.Contains(DeviceQuery.LspciSlot(d)))
        {
            return false;
        }

        if (_names.Count > 0 && !_names.Exists(r => MatchesName(r, LspciName(d.DeviceName, d.DeviceId))))
        {
            return false;
        }

        if (_nvidia.Contains(d.VendorId ?? "") && _root.Exists(DevicePath(d, "virtfn0")))
        {
            return false; // a vGPU-capable parent: its VFs are listed instead
        }

        return !(int.TryParse(_root.TryReadText(DevicePath(d, "sriov_numvfs"))?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var numVfs) && numVfs > 0);
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

        if (!_nvidia.Contains(d.VendorId ?? ""))
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

    private static bool MatchesName(Regex r, string name)
    {
        try
        {
            return r.IsMatch(name);
        }
        catch (RegexMatchTimeoutException e)
        {
            throw new PciPassthroughException(ErrorIds.InvalidDeviceNamePattern, FailureKind.InvalidArgument, $"The regular expression '{r}' took too long on '{name}'.", "Simplify the :device_name: pattern: avoid nested repetition such as (a+)+.", r.ToString(), e);
        }
    }

    private static string DevicePath(PciDevice d, string name) => $"/sys/bus/pci/devices/{d.PciAddress}/{name}";

    private static string Value(string name, string? value) => $" {name} = \"{value}\" ";
}
