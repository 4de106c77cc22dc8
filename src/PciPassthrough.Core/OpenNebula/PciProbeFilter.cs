namespace PciPassthrough.OpenNebula;

/// <summary>
/// OpenNebula's probe filter (pci.conf): which devices the monitoring probe reports. Missing keys take
/// OpenNebula's defaults, exactly: no device (<c>0:0</c>), no address or name filter, NVIDIA's vendor id.
/// </summary>
public sealed class PciProbeFilter
{
    public static readonly IReadOnlyList<string> DefaultFilter = ["0:0"];
    public static readonly IReadOnlyList<string> DefaultNvidiaVendors = ["10de"];

    public PciProbeFilter(IReadOnlyList<string>? filter = null, IReadOnlyList<string>? shortAddress = null, IReadOnlyList<string>? deviceName = null, IReadOnlyList<string>? nvidiaVendors = null)
    {
        Filter = (filter ?? DefaultFilter).ToArray();
        ShortAddress = (shortAddress ?? []).ToArray();
        DeviceName = (deviceName ?? []).ToArray();
        NvidiaVendors = (nvidiaVendors ?? DefaultNvidiaVendors).ToArray();
    }

    /// <summary>lspci -d filters (<c>:filter:</c>); entries may hold several, comma-separated.</summary>
    public string[] Filter { get; }

    /// <summary>Exact lspci slot strings (<c>:short_address:</c>).</summary>
    public string[] ShortAddress { get; }

    /// <summary>Case-insensitive, unanchored regular expressions on the device name (<c>:device_name:</c>).</summary>
    public string[] DeviceName { get; }

    /// <summary>Vendor ids the probe treats as NVIDIA (vGPU rules, <c>:nvidia_vendors:</c>).</summary>
    public string[] NvidiaVendors { get; }

    /// <summary>Where it was read from, when it was.</summary>
    public string? Path { get; init; }
}
