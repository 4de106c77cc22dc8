using PciPassthrough.Host;
using PciPassthrough.OpenNebula.Placement;

namespace PciPassthrough.OpenNebula.HostAttributes;

/// <summary>
/// A host's PCI_FILTER and PCI_SHORT_ADDRESS attributes for the devices it passes through, and the text
/// <c>onehost update &lt;host&gt; --append &lt;file&gt;</c> takes. OpenNebula's core keeps from the probe only
/// the devices both lists match (HostSharePCI::set_monitorization), so the host offers exactly these.
/// </summary>
public sealed class PciHostFilterAttributes
{
    internal PciHostFilterAttributes(string? hostName, IReadOnlyList<PciDevice> devices, IReadOnlyList<string> leftOut)
    {
        HostName = hostName;
        PciAddresses = devices.Select(d => d.PciAddress).ToArray();
        ShortAddresses = devices.Select(d => Parse(d).ToLspciSlot()).ToArray();
        PciFilter = string.Join(',', devices.Select(d => $"{d.VendorId}:{d.DeviceId}").Distinct(StringComparer.Ordinal));
        PciShortAddress = string.Join(',', ShortAddresses);
        LeftOut = leftOut;
    }

    /// <summary>The host these attributes are for, when given; only the text of <see cref="Command"/> uses it.</summary>
    public string? HostName { get; }

    /// <summary>The devices the attributes select, in address order.</summary>
    public IReadOnlyList<string> PciAddresses { get; }

    /// <summary>Their SHORT_ADDRESS as the probe reports it: lspci's slot, with the domain outside domain 0000.</summary>
    public IReadOnlyList<string> ShortAddresses { get; }

    /// <summary>PCI_FILTER: each distinct <c>vendor:device</c> of the devices, comma-separated.</summary>
    public string PciFilter { get; }

    /// <summary>PCI_SHORT_ADDRESS: the devices' short addresses, comma-separated.</summary>
    public string PciShortAddress { get; }

    /// <summary>Devices on vfio-pci the attributes leave out, each with the reason.</summary>
    public IReadOnlyList<string> LeftOut { get; }

    /// <summary>The attributes in OpenNebula's template syntax, for <c>onehost update --append</c>.</summary>
    public string Template => $"PCI_FILTER = \"{PciFilter}\"\nPCI_SHORT_ADDRESS = \"{PciShortAddress}\"\n";

    /// <summary>
    /// The command that applies <see cref="Template"/> saved to <c>pci-filter.txt</c>: <c>--append</c>, because
    /// onehost update without it replaces the host's whole template.
    /// </summary>
    public string Command => $"onehost update {(string.IsNullOrEmpty(HostName) ? "<host>" : HostName)} --append pci-filter.txt";

    /// <summary>The attributes as the core-side filter Import-PciHostInventory applies.</summary>
    public PciHostFilter ToFilter() => new(PciFilter, PciShortAddress);

    public override string ToString() => Template;

    private static PciAddress Parse(PciDevice d) => PciAddress.TryParse(d.PciAddress, out var a) ? a : throw new InvalidOperationException(d.PciAddress);
}

/// <summary>
/// Computes <see cref="PciHostFilterAttributes"/> from a host's live inventory, as OpenNebula's one-deploy
/// (roles/pci/node, filters.yml) does for the devices it overrides to vfio-pci: every device on vfio-pci or
/// with driver_override vfio-pci, except a physical function with VFs enabled (the probe lists its VFs,
/// never the PF). Unlike one-deploy, a device outside domain 0000 keeps its domain, as the probe's
/// SHORT_ADDRESS does, so the core's exact string comparison matches it.
/// </summary>
public static class PciHostFilterBuilder
{
    public const string VfioDriver = "vfio-pci";

    /// <summary>From the host's devices, or only from <paramref name="addresses"/> when given.</summary>
    public static PciHostFilterAttributes FromHost(HostSession session, IReadOnlyCollection<string>? addresses, string? hostName)
    {
        ArgumentNullException.ThrowIfNull(session);
        var devices = addresses is { Count: > 0 }
            ? addresses.Select(session.Devices.Require).DistinctBy(d => d.PciAddress).OrderBy(d => d.PciAddress, StringComparer.Ordinal).ToList()
            : session.Devices.ReadAll().Where(IsForGuests).ToList();
        return FromDevices(devices, hostName);
    }

    /// <summary>The attributes for exactly these devices (a PF with VFs enabled is left out with its reason).</summary>
    public static PciHostFilterAttributes FromDevices(IEnumerable<PciDevice> devices, string? hostName)
    {
        ArgumentNullException.ThrowIfNull(devices);
        var kept = new List<PciDevice>();
        var leftOut = new List<string>();
        foreach (var d in devices.OrderBy(d => d.PciAddress, StringComparer.Ordinal))
        {
            if (d.SriovRole == SriovRole.PF && d.NumVfs > 0)
            {
                leftOut.Add($"{d.PciAddress}: a physical function with {d.NumVfs} VFs enabled; OpenNebula's probe reports its VFs instead.");
            }
            else if (d.VendorId is null || d.DeviceId is null)
            {
                leftOut.Add($"{d.PciAddress}: its vendor or device id is unreadable.");
            }
            else
            {
                kept.Add(d);
            }
        }

        if (kept.Count == 0)
        {
            throw ErrorCatalog.NoPassthroughDevices(leftOut);
        }

        return new PciHostFilterAttributes(hostName, kept, leftOut);
    }

    /// <summary>On vfio-pci now, or overridden to it (bound at the next probe of the driver).</summary>
    public static bool IsForGuests(PciDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return device.Driver == VfioDriver || device.DriverOverride == VfioDriver;
    }
}
