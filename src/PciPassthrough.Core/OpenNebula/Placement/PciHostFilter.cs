namespace PciPassthrough.OpenNebula.Placement;

/// <summary>
/// OpenNebula's core-side PCI filter, set on a host or its cluster: <c>PCI_FILTER = "10de:*,386e:0edc"</c>
/// (entries <c>vendor:device[:class]</c>, each field compared as a plain string, <c>*</c> or empty = any)
/// and <c>PCI_SHORT_ADDRESS = "c1:00.2,c1:00.3"</c> (exact slot strings). A device is kept when it matches
/// an entry of each given list; an absent or empty list keeps every device. A host's attribute wins over
/// its cluster's.
/// </summary>
public sealed class PciHostFilter
{
    private readonly string[][] _ids;
    private readonly string[] _shortAddresses;

    public PciHostFilter(string? pciFilter, string? pciShortAddress)
    {
        PciFilter = string.IsNullOrWhiteSpace(pciFilter) ? null : pciFilter.Trim();
        PciShortAddress = string.IsNullOrWhiteSpace(pciShortAddress) ? null : pciShortAddress.Trim();
        _ids = Split(PciFilter).Select(e => e.Split(':').Select(f => f.Trim()).ToArray()).ToArray();
        _shortAddresses = Split(PciShortAddress);
    }

    public string? PciFilter { get; }

    public string? PciShortAddress { get; }

    public bool IsEmpty => _ids.Length == 0 && _shortAddresses.Length == 0;

    /// <summary>The host's own values where it has them, else the cluster's (this filter's).</summary>
    public PciHostFilter Under(PciHostFilter? host) =>
        new(host?.PciFilter ?? PciFilter, host?.PciShortAddress ?? PciShortAddress);

    public bool Keeps(PciHostDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return (_ids.Length == 0 || _ids.Any(e => Field(e, 0, device.VendorId) && Field(e, 1, device.DeviceId) && Field(e, 2, device.Class)))
            && (_shortAddresses.Length == 0 || _shortAddresses.Contains(device.ShortAddress, StringComparer.Ordinal));
    }

    private static bool Field(string[] entry, int i, string value) =>
        i >= entry.Length || entry[i] is "" or "*" || entry[i] == value;

    private static string[] Split(string? list) =>
        list is null ? [] : list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
