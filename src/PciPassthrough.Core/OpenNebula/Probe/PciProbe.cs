using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using PciPassthrough.Filtering;
using PciPassthrough.HostFs;
using PciPassthrough.Sysfs;

namespace PciPassthrough.OpenNebula.Probe;

/// <summary>
/// OpenNebula's PCI monitoring probe (<c>pci.rb</c>), reproduced byte for byte: the devices a
/// <see cref="PciProbeFilter"/> selects, in its order, as <c>PCI = [ ... ]</c> blocks of attributes
/// taken from what <c>lspci -mmnn</c> and sysfs show.
/// </summary>
public sealed class PciProbe
{
    private static readonly TimeSpan RegexBudget = NamePatterns.Budget;

    private readonly HostRoot _root;
    private readonly ProbeSelection _selection;

    /// <summary>Validates the filter (a bad entry throws before any device is read).</summary>
    public PciProbe(HostRoot root, PciProbeFilter filter)
    {
        _root = root;
        _selection = new ProbeSelection(root, filter);
    }

    /// <summary>
    /// What the probe needs the reader to read: ids, names, NUMA node, SR-IOV and interfaces, and pci.rb's raw view of
    /// them (<see cref="ProbeFacts"/>); not the drivers, IOMMU groups, VFIO users (/proc/*/fd), cpu lists or VF lists.
    /// Devices read with other options are probed the same, reading pci.rb's files by path.
    /// </summary>
    public static PciDeviceReadOptions ReadOptions { get; } = new()
    {
        Subsystem = false,
        HeaderType = false,
        Driver = false,
        DriverOverride = false,
        IommuGroup = false,
        InUse = false,
        LocalCpuList = false,
        BootVga = false,
        VirtualFunctions = false,
        Reset = false,
        VgpuFramework = false,
        ProbeFacts = true,
    };

    /// <summary>The probe's blocks, one per reported device, each without a trailing new line.</summary>
    public IReadOnlyList<string> Run(IEnumerable<PciDevice> devices)
    {
        var block = new StringBuilder(1024);
        var blocks = new List<string>();
        foreach (var d in _selection.Select(devices.ToList()))
        {
            block.Clear();
            AppendBlock(block, d);
            blocks.Add(block.ToString());
        }

        return blocks;
    }

    /// <summary>
    /// The probe's whole output (what <see cref="Render"/> makes of <see cref="Run"/>'s blocks) written block by
    /// block, for a caller that prints it rather than keeping it.
    /// </summary>
    public void Write(IEnumerable<PciDevice> devices, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var block = new StringBuilder(1024);
        foreach (var d in _selection.Select(devices.ToList()))
        {
            block.Clear();
            AppendBlock(block, d);
            block.Append('\n');
            output.Write(block);
        }
    }

    /// <summary>The probe's whole output: every block followed by a new line, as <c>puts</c> writes it.</summary>
    public static string Render(IEnumerable<string> blocks) => string.Concat(blocks.Select(b => b + "\n"));

    /// <summary>lspci -mmnn prints "Name [id]"; pci.rb keeps "Name". Unknown ids already read "Device [id]".</summary>
    public static string LspciName(string? name, string? id)
    {
        var n = name ?? "";
        return HasIdSuffix(n, id) ? n[..^(id!.Length + 3)] : n;
    }

    private static ReadOnlySpan<char> LspciNameSpan(string? name, string? id)
    {
        var n = name ?? "";
        return HasIdSuffix(n, id) ? n.AsSpan(0, n.Length - id!.Length - 3) : n;
    }

    // " [id]" at the end of the name, compared in place.
    private static bool HasIdSuffix(string name, string? id) =>
        id is not null
        && name.Length >= id.Length + 3
        && name[^1] == ']'
        && name[^(id.Length + 3)] == ' '
        && name[^(id.Length + 2)] == '['
        && name.AsSpan(name.Length - id.Length - 1, id.Length).SequenceEqual(id);

    private void AppendBlock(StringBuilder b, PciDevice d)
    {
        var vendorName = LspciNameSpan(d.VendorName, d.VendorId);
        var deviceName = LspciNameSpan(d.DeviceName, d.DeviceId);
        b.Append("PCI = [\n");
        Start(b, "TYPE").Append(d.VendorId).Append(':').Append(d.DeviceId).Append(':').Append(d.Class);
        Next(b, "VENDOR").Append(d.VendorId);
        Next(b, "VENDOR_NAME").Append(vendorName);
        Next(b, "DEVICE").Append(d.DeviceId);
        Next(b, "CLASS").Append(d.Class);
        Next(b, "CLASS_NAME").Append(LspciNameSpan(d.ClassName, d.Class));
        Next(b, "ADDRESS").Append(d.Domain).Append(':').Append(d.Bus).Append(':').Append(d.Slot).Append(':').Append(d.Function);
        Next(b, "SHORT_ADDRESS").Append(DeviceQuery.LspciSlot(d));
        Next(b, "DOMAIN").Append(d.Domain);
        Next(b, "BUS").Append(d.Bus);
        Next(b, "SLOT").Append(d.Slot);
        Next(b, "FUNCTION").Append(d.Function);
        Next(b, "NUMA_NODE").Append(NumaNode(d));
        Next(b, "IFNAME").Append(InterfaceName(d));

        var facts = d.Probe;
        var isVf = facts?.HasPhysfn ?? _root.Exists(DevicePath(d, "physfn"));
        if (isVf)
        {
            Next(b, "SRIOV").Append("vf");
        }
        else if (facts?.HasSriovFiles ?? (_root.Exists(DevicePath(d, "sriov_numvfs")) || _root.Exists(DevicePath(d, "sriov_totalvfs"))))
        {
            var num = facts is not null ? facts.NumVfs : _root.TryReadText(DevicePath(d, "sriov_numvfs"))?.Trim();
            Next(b, "SRIOV").Append("pf");
            Next(b, "SRIOV_NUM").Append(string.IsNullOrEmpty(num) ? "0" : num);
        }
        else
        {
            Next(b, "SRIOV").Append("no");
        }

        if (!_selection.IsNvidia(d))
        {
            Next(b, "DEVICE_NAME").Append(deviceName);
        }
        else if (!isVf)
        {
            Next(b, "DEVICE_NAME").Append(vendorName).Append(' ').Append(deviceName);
        }
        else
        {
            var address = $"{d.Domain}:{d.Bus}:{d.Slot}:{d.Function}";
            var mdevBus = $"{Mdev.MediatedDeviceReader.ParentsPath}/{d.PciAddress}";
            var profiles = _root.ListNames(mdevBus + "/mdev_supported_types");
            Next(b, "DEVICE_NAME").Append("NVIDIA vGPU device");
            Next(b, "UUID").Append(NameBasedUuid.X500Sha1(address));
            Next(b, "PROFILES").Append(string.Join(",", profiles.Count > 0 ? profiles : NvidiaProfiles(d)));
            Next(b, "MDEV_MODE").Append(_root.Exists(mdevBus) ? "legacy" : "nvidia");
        }

        // The last value's closing quote; pci.rb joins the values with ",\n" and puts "]" on its own line.
        b.Append("\" \n]");
    }

    // pci.rb's pval: ' NAME = "value" ', the values joined by ",\n". Start opens the first, Next closes the one before.
    private static StringBuilder Start(StringBuilder b, string name) => b.Append(' ').Append(name).Append(" = \"");

    private static StringBuilder Next(StringBuilder b, string name) => b.Append("\" ,\n ").Append(name).Append(" = \"");

    private string NumaNode(PciDevice d)
    {
        var text = d.Probe is { } facts ? facts.NumaNode : _root.TryReadText(DevicePath(d, "numa_node"))?.Trim();
        return text is null || (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n < 0) ? "-" : text;
    }

    private string InterfaceName(PciDevice d)
    {
        var names = d.Probe is { } facts ? facts.NetNames : _root.ListNames(DevicePath(d, "net"));
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
}
