using System.Text.RegularExpressions;
using PciPassthrough.Filtering;

namespace PciPassthrough.OpenNebula.Probe;

/// <summary>
/// What a pci.conf value must look like for OpenNebula's probe to use it, checked before a file is
/// planned: a value the probe would never match (an address lspci does not print, a vendor that is not
/// four hex digits) is refused instead of written.
/// </summary>
public static class ProbeFilterValues
{
    private static readonly Regex VendorShape = new(@"\A[0-9a-fA-F]{4}\z", RegexOptions.CultureInvariant);

    /// <summary>Throws the first invalid value's error; null lists are not being set.</summary>
    public static void Validate(IReadOnlyList<string>? filters, IReadOnlyList<string>? shortAddresses, IReadOnlyList<string>? deviceNames, IReadOnlyList<string>? nvidiaVendors)
    {
        _ = IdFilter.ParseList(filters ?? []);
        _ = new DeviceQuery().WithDeviceNames(deviceNames);
        foreach (var a in shortAddresses ?? [])
        {
            // The probe compares lspci's slot column: BB:SS.F in domain 0000, the full address elsewhere.
            if (!PciAddress.TryParse(a, out var parsed) || !string.Equals(parsed.ToLspciSlot(), a, StringComparison.Ordinal))
            {
                throw ErrorCatalog.InvalidShortAddress(a);
            }
        }

        foreach (var v in nvidiaVendors ?? [])
        {
            if (!VendorShape.IsMatch(v))
            {
                throw ErrorCatalog.InvalidVendorId(v);
            }
        }
    }
}
