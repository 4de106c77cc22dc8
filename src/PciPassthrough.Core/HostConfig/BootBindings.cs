using PciPassthrough.HostFs;

namespace PciPassthrough.HostConfig;

/// <summary>What brings a device to vfio-pci at boot.</summary>
public enum BootBindingKind
{
    /// <summary>vfio-bind.service (the guide's and this module's) with the device in DEVICES.</summary>
    VfioBindService,

    /// <summary>A driver_override set when the device appears (driverctl, a udev rule): no host driver can take it first.</summary>
    DriverOverride,

    /// <summary>vfio-pci ids=, which claims every device with the same ids.</summary>
    VfioPciIds,
}

/// <summary>One way a device is bound at boot, with a sentence naming it.</summary>
internal sealed record BootBinding(BootBindingKind Kind, string Description);

/// <summary>
/// How devices get to vfio-pci at boot: the vfio-bind service's DEVICES, driverctl's persistent
/// override, a udev rule setting driver_override, or vfio-pci ids. The host-wide sources (the vfio-bind
/// config, every udev rule file) are read once, then asked about each device.
/// </summary>
internal sealed class BootBindings
{
    public const string VfioBindConfig = "/etc/sysconfig/vfio-bind";

    private readonly HostRoot _root;
    private readonly ModprobeConfiguration _modprobe;
    private readonly IReadOnlyList<string> _vfioBindDevices;
    private readonly List<(string File, string Line)> _overrideRules;

    private BootBindings(HostRoot root, ModprobeConfiguration modprobe)
    {
        _root = root;
        _modprobe = modprobe;
        _vfioBindDevices = ReadVfioBindDevices(root);
        _overrideRules = UdevRules.Lines(root).Where(l => l.Line.Contains("driver_override", StringComparison.Ordinal) && l.Line.Contains("vfio-pci", StringComparison.Ordinal)).ToList();
    }

    public static BootBindings Read(HostRoot root, ModprobeConfiguration modprobe) => new(root, modprobe);

    /// <summary>What binds the device at boot, or null when nothing does.</summary>
    public BootBinding? Find(PciDevice device)
    {
        if (_vfioBindDevices.Contains(device.PciAddress, StringComparer.OrdinalIgnoreCase))
        {
            return new(BootBindingKind.VfioBindService, $"{VfioBindConfig} lists it in DEVICES (vfio-bind.service)");
        }

        if (_root.TryReadText($"/etc/driverctl.d/pci-{device.PciAddress}")?.Trim() == "vfio-pci")
        {
            return new(BootBindingKind.DriverOverride, $"driverctl overrides it to vfio-pci (/etc/driverctl.d/pci-{device.PciAddress})");
        }

        foreach (var (file, line) in _overrideRules)
        {
            if (line.Contains(device.PciAddress, StringComparison.OrdinalIgnoreCase))
            {
                return new(BootBindingKind.DriverOverride, $"the udev rule in {file} sets its driver_override to vfio-pci");
            }
        }

        return _modprobe.VfioClaims(device.VendorId, device.DeviceId)
            ? new(BootBindingKind.VfioPciIds, $"vfio-pci is given ids={device.VendorId}:{device.DeviceId} (this claims every device with these ids)")
            : null;
    }

    /// <summary>The addresses in <c>DEVICES="..."</c> of /etc/sysconfig/vfio-bind.</summary>
    public static IReadOnlyList<string> ReadVfioBindDevices(HostRoot root) => ReadVariable(root, "DEVICES");

    /// <summary>The ids each boot-bound address had when it was configured (<c>DEVICE_IDS="address=vendor:device ..."</c>).</summary>
    public static IReadOnlyDictionary<string, string> ReadVfioBindIds(HostRoot root) =>
        ReadVariable(root, "DEVICE_IDS").Select(p => p.Split('=', 2)).Where(p => p.Length == 2)
            .GroupBy(p => p[0], StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.Last()[1], StringComparer.OrdinalIgnoreCase);

    private static string[] ReadVariable(HostRoot root, string name)
    {
        foreach (var line in (root.TryReadText(VfioBindConfig) ?? "").Split('\n'))
        {
            var t = line.Trim();
            if (t.StartsWith(name + "=", StringComparison.Ordinal))
            {
                return t[(name.Length + 1)..].Trim('"', '\'').Split(' ', StringSplitOptions.RemoveEmptyEntries);
            }
        }

        return [];
    }
}
