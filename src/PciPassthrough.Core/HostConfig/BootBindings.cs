using PciPassthrough.HostFs;

namespace PciPassthrough.HostConfig;

/// <summary>
/// How a device gets to vfio-pci at boot, if it does: the vfio-bind service's DEVICES (the guide's, and
/// this module's), driverctl's persistent override, a udev rule setting driver_override, or vfio-pci ids.
/// </summary>
public static class BootBindings
{
    public const string VfioBindConfig = "/etc/sysconfig/vfio-bind";

    /// <summary>A sentence naming what binds the device at boot, or null when nothing does.</summary>
    public static string? Describe(HostRoot root, PciDevice device, ModprobeConfiguration modprobe)
    {
        var devices = ReadVfioBindDevices(root);
        if (devices.Contains(device.Address, StringComparer.OrdinalIgnoreCase))
        {
            return $"{VfioBindConfig} lists it in DEVICES (vfio-bind.service)";
        }

        var driverctl = root.TryReadText($"/etc/driverctl.d/pci-{device.Address}")?.Trim();
        if (driverctl == "vfio-pci")
        {
            return $"driverctl overrides it to vfio-pci (/etc/driverctl.d/pci-{device.Address})";
        }

        foreach (var (file, line) in UdevRules.Lines(root))
        {
            if (line.Contains(device.Address, StringComparison.OrdinalIgnoreCase) && line.Contains("driver_override", StringComparison.Ordinal) && line.Contains("vfio-pci", StringComparison.Ordinal))
            {
                return $"the udev rule in {file} sets its driver_override to vfio-pci";
            }
        }

        return modprobe.VfioClaims(device.VendorId, device.DeviceId)
            ? $"vfio-pci is given ids={device.VendorId}:{device.DeviceId} (this claims every device with these ids)"
            : null;
    }

    /// <summary>The addresses in <c>DEVICES="..."</c> of /etc/sysconfig/vfio-bind.</summary>
    public static IReadOnlyList<string> ReadVfioBindDevices(HostRoot root)
    {
        foreach (var line in (root.TryReadText(VfioBindConfig) ?? "").Split('\n'))
        {
            var t = line.Trim();
            if (t.StartsWith("DEVICES=", StringComparison.Ordinal))
            {
                return t[8..].Trim('"', '\'').Split(' ', StringSplitOptions.RemoveEmptyEntries);
            }
        }

        return [];
    }
}
