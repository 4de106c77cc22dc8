using System.Globalization;
using PciPassthrough.OpenNebula.Templates;

namespace PciPassthrough.OpenNebula.Placement;

/// <summary>The device one request of a VM template gets on a host.</summary>
public sealed class PciAssignment(int request, PciTemplateSection section, PciHostDevice device)
{
    /// <summary>The request's index among the template's PCI sections (0 is the first).</summary>
    public int Request { get; } = request;

    public PciTemplateSection Section { get; } = section;

    public PciHostDevice Device { get; } = device;

    /// <summary>The device's address, so an assignment pipes into ConvertTo-PciHostdevXml.</summary>
    public string PciAddress => Device.PciAddress;

    public override string ToString() => $"{Section} -> {Device.ShortAddress}";
}

/// <summary>Whether a host can take the VM's PCI requests, and with which devices.</summary>
public sealed class PciPlacement
{
    public const string UnavailableMessage = "Unavailable PCI device.";

    internal PciPlacement(PciHostInventory host, IReadOnlyList<PciAssignment> assignments, int? failedRequest, PciTemplateSection? failedSection, string? reason)
    {
        HostName = host.HostName;
        HostId = host.HostId;
        Assignments = failedRequest is null ? assignments : [];
        FailedRequest = failedRequest;
        FailedSection = failedSection;
        Reason = reason;
    }

    public string HostName { get; }

    public int? HostId { get; }

    public bool CanHost => FailedRequest is null;

    /// <summary>In request order; empty when the host cannot take the VM.</summary>
    public IReadOnlyList<PciAssignment> Assignments { get; }

    /// <summary>OpenNebula's message when the host cannot take the VM, else null.</summary>
    public string? Message => CanHost ? null : UnavailableMessage;

    public int? FailedRequest { get; }

    public PciTemplateSection? FailedSection { get; }

    /// <summary>Why the failed request found no device.</summary>
    public string? Reason { get; }

    public override string ToString() => CanHost ? $"{HostName}: {string.Join(", ", Assignments)}" : $"{HostName}: {Message} {Reason}";
}

/// <summary>
/// OpenNebula's PCI placement test (HostSharePCI): address requests first, each needing that device free;
/// then the others in order, each taking the first free device in ascending address order whose given
/// VENDOR/DEVICE/CLASS match as hex numbers (absent = any). A device is taken once. A preferred NUMA node
/// is tried first for the id requests.
/// </summary>
public static class PciPlacer
{
    public static PciPlacement Place(PciHostInventory host, IReadOnlyList<PciTemplateSection> requests, int? preferNumaNode = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(requests);
        var taken = new HashSet<PciHostDevice>();
        var assigned = new PciAssignment?[requests.Count];
        for (var i = 0; i < requests.Count; i++)
        {
            var r = requests[i];
            if (!r.IsAddressRequest)
            {
                continue;
            }

            var device = host.Devices.FirstOrDefault(d => d.ShortAddress == r.ShortAddress);
            var reason = device is null ? $"host {host.HostName} has no device {r.ShortAddress}."
                : !device.IsFree ? $"{r.ShortAddress} is in use by {(device.VmId >= 0 ? "VM " + device.VmId.ToString(CultureInfo.InvariantCulture) : "a process outside OpenNebula")}."
                : taken.Contains(device) ? $"{r.ShortAddress} is already requested by an earlier PCI section."
                : null;
            if (reason is not null)
            {
                return Failed(host, i, r, reason);
            }

            taken.Add(device!);
            assigned[i] = new PciAssignment(i, r, device!);
        }

        for (var i = 0; i < requests.Count; i++)
        {
            var r = requests[i];
            if (r.IsAddressRequest)
            {
                continue;
            }

            var candidates = host.Devices.Where(d => d.IsFree && !taken.Contains(d) && Matches(r, d)).ToList();
            var device = candidates.FirstOrDefault(d => preferNumaNode is not null && d.NumaNode == preferNumaNode) ?? candidates.FirstOrDefault();
            if (device is null)
            {
                var all = host.Devices.Count(d => Matches(r, d));
                return Failed(host, i, r, all == 0 ? $"no device of host {host.HostName} matches {r}." : $"all {all} matching devices of host {host.HostName} are in use or taken by earlier PCI sections.");
            }

            taken.Add(device);
            assigned[i] = new PciAssignment(i, r, device);
        }

        return new PciPlacement(host, assigned.Select(a => a!).ToList(), null, null, null);
    }

    /// <summary>VENDOR/DEVICE/CLASS compared as hex numbers; an absent field matches any device.</summary>
    public static bool Matches(PciTemplateSection request, PciHostDevice device)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(device);
        return request.IsAddressRequest
            ? request.ShortAddress == device.ShortAddress
            : Same(request.VendorId, device.VendorId) && Same(request.DeviceId, device.DeviceId) && Same(request.Class, device.Class);
    }

    private static bool Same(string? wanted, string actual) =>
        wanted is null || int.Parse(wanted, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture) == int.Parse(actual, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    private static PciPlacement Failed(PciHostInventory host, int index, PciTemplateSection request, string reason) =>
        new(host, [], index, request, $"PCI section {index + 1} ({request}): {reason}");
}
