using System.Globalization;
using System.Text.RegularExpressions;
using PciPassthrough.Filtering;
using PciPassthrough.HostFs;

namespace PciPassthrough.OpenNebula.Probe;

/// <summary>
/// Which devices OpenNebula's PCI probe (pci.rb) reports for a pci.conf, and in which order: the one
/// rule set behind <c>Invoke-PciProbe</c>, the probe scripts and <c>Get-PciDevice -ProbeFilterPath</c>,
/// so that they cannot disagree. pci.rb compares short addresses exactly and matches names as lspci
/// prints them (without the <c>[id]</c> suffix); so does this.
/// </summary>
public sealed class ProbeSelection
{
    private readonly HostRoot _root;
    private readonly IReadOnlyList<IdFilter> _filters;
    private readonly NamePatterns _names;
    private readonly HashSet<string> _shortAddresses;
    private readonly HashSet<string> _nvidia;
    private readonly PciProbeFilter _filter;

    /// <summary>Validates the filter: a bad entry or pattern throws before any device is read.</summary>
    public ProbeSelection(HostRoot root, PciProbeFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        _root = root;
        _filter = filter;
        if (filter.UnusableKeys.Contains(PciProbeFilter.FilterKey))
        {
            throw ErrorCatalog.ProbeFilterValueUnusable(filter.Path, PciProbeFilter.FilterKey, device: null);
        }

        _filters = IdFilter.ParseList(filter.Filter);
        _shortAddresses = new HashSet<string>(filter.ShortAddress, StringComparer.Ordinal);
        _nvidia = new HashSet<string>(filter.NvidiaVendors.Select(v => v.Trim().ToLowerInvariant()), StringComparer.Ordinal);
        _names = new NamePatterns(filter.DeviceName, ":device_name: (-DeviceName)");
    }

    /// <summary>True for the vendor ids the probe gives NVIDIA's attributes (<c>:nvidia_vendors:</c>).</summary>
    public bool IsNvidia(PciDevice device) => _nvidia.Contains(device.VendorId ?? "");

    /// <summary>
    /// The reported devices in the probe's order: filter entry by filter entry, each in lspci's
    /// order, so a device that two entries match is reported twice, as pci.rb reports it.
    /// </summary>
    public IEnumerable<PciDevice> Select(IReadOnlyList<PciDevice> devices)
    {
        foreach (var filter in _filters)
        {
            foreach (var device in devices)
            {
                if (DeviceQuery.MatchesFilter(filter, device) && PassesLaterRules(device))
                {
                    yield return device;
                }
            }
        }
    }

    /// <summary>Whether the probe reports the device at all (for listing each device once).</summary>
    public bool Reports(PciDevice device) =>
        _filters.Any(f => DeviceQuery.MatchesFilter(f, device)) && PassesLaterRules(device);

    // pci.rb's rules after the lspci filter, in its order.
    private bool PassesLaterRules(PciDevice d)
    {
        StopsAt(PciProbeFilter.ShortAddressKey, d);
        if (_shortAddresses.Count > 0 && !_shortAddresses.Contains(DeviceQuery.LspciSlot(d)))
        {
            return false;
        }

        StopsAt(PciProbeFilter.DeviceNameKey, d);
        if (_names.Count > 0 && !_names.AnyMatches(PciProbe.LspciName(d.DeviceName, d.DeviceId)))
        {
            return false;
        }

        StopsAt(PciProbeFilter.NvidiaVendorsKey, d);
        if (IsNvidia(d) && _root.Exists(DevicePath(d, "virtfn0")))
        {
            return false; // a vGPU-capable parent: its VFs are listed instead
        }

        var numVfsText = d.Probe is { } facts ? facts.NumVfs : _root.TryReadText(DevicePath(d, "sriov_numvfs"))?.Trim();
        return !(int.TryParse(numVfsText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var numVfs) && numVfs > 0);
    }

    // pci.rb calls a list's method on each key's value in this order, device by device: on a value it cannot
    // use it stops there, at the first device that reaches the rule, before printing that device.
    private void StopsAt(string key, PciDevice d)
    {
        // Three calls per device on the probe's path: a usable file (nearly every one) costs a count.
        if (_filter.UnusableKeys.Count > 0 && _filter.UnusableKeys.Contains(key))
        {
            throw ErrorCatalog.ProbeFilterValueUnusable(_filter.Path, key, d.PciAddress);
        }
    }

    internal static string DevicePath(PciDevice d, string name) => $"/sys/bus/pci/devices/{d.PciAddress}/{name}";
}
