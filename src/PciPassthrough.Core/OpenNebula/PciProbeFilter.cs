namespace PciPassthrough.OpenNebula;

/// <summary>
/// OpenNebula's probe filter (pci.conf): which devices the monitoring probe reports. Missing keys take
/// OpenNebula's defaults, exactly: no device (<c>0:0</c>), no address or name filter, NVIDIA's vendor id.
/// </summary>
public sealed class PciProbeFilter
{
    public static readonly IReadOnlyList<string> DefaultFilter = ["0:0"];
    public static readonly IReadOnlyList<string> DefaultNvidiaVendors = ["10de"];

    /// <summary>The keys as pci.conf writes them (Ruby symbols), without the colon that ends a key.</summary>
    public const string FilterKey = ":filter", ShortAddressKey = ":short_address", DeviceNameKey = ":device_name", NvidiaVendorsKey = ":nvidia_vendors";

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

    /// <summary>
    /// Keys whose value OpenNebula's probe cannot use: an empty value (or <c>~</c>, <c>null</c>), which Ruby
    /// reads as nil, under <c>:short_address:</c>, <c>:device_name:</c> or <c>:nvidia_vendors:</c>, or a
    /// <c>:device_name:</c> written as one string instead of a list. pci.rb stops with NoMethodError at the
    /// first device that reaches the key's rule, so the probe reports nothing; the module's probe fails there
    /// too, and <c>Set-PciProbeFilter</c> writes nothing until each is given a value. A <c>:filter:</c> list
    /// with an empty entry stops pci.rb before any device. (An empty <c>:filter:</c> itself is usable: Ruby's
    /// nil means no lspci filter, every device, so it reads as <c>*:*</c>.)
    /// </summary>
    public IReadOnlyList<string> UnusableKeys { get; init; } = [];

    /// <summary>Where it was read from, when it was.</summary>
    public string? Path { get; init; }

    /// <summary>This filter with the given keys replaced (null: kept); a replaced key is no longer unusable.</summary>
    public PciProbeFilter With(IReadOnlyList<string>? filter, IReadOnlyList<string>? shortAddress, IReadOnlyList<string>? deviceName, IReadOnlyList<string>? nvidiaVendors) =>
        new(filter ?? Filter, shortAddress ?? ShortAddress, deviceName ?? DeviceName, nvidiaVendors ?? NvidiaVendors)
        {
            Path = Path,
            UnusableKeys = UnusableKeys.Where(key => key switch
            {
                ShortAddressKey => shortAddress is null,
                DeviceNameKey => deviceName is null,
                NvidiaVendorsKey => nvidiaVendors is null,
                _ => filter is null,
            }).ToArray(),
        };
}
