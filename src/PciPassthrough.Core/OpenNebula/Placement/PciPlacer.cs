using System.Globalization;
using PciPassthrough.OpenNebula.Templates;

namespace PciPassthrough.OpenNebula.Placement;

/// <summary>How Find-PciPlacement lays out the guest side: the machine type, the passthrough bus, NUMA pinning.</summary>
public sealed class PciPlacementOptions
{
    /// <summary>oned.conf's PCI_PASSTHROUGH_BUS default.</summary>
    public const string DefaultPassthroughBus = "0x01";

    /// <summary>The VM's machine type (OS/MACHINE); one containing <c>q35</c> or <c>virt</c> (case-sensitive, as OpenNebula's test_machine_type) gets PCIe root ports.</summary>
    public string Machine { get; init; } = "pc";

    /// <summary>The guest bus of the flat layout when a section has no VM_BUS.</summary>
    public string PassthroughBus { get; init; } = DefaultPassthroughBus;

    /// <summary>
    /// The NUMA nodes the VM is pinned to, one per guest NUMA node (OpenNebula's NUMA_NODE elements); empty
    /// when it is not pinned. Their count is set_pci_address's total_nodes.
    /// </summary>
    public IReadOnlyList<int> NumaNodes { get; init; } = [];

    /// <summary>Devices on this node are tried first (after the pinned nodes).</summary>
    public int? PreferNumaNode { get; init; }

    public bool IsQ35 => Machine.Contains("q35", StringComparison.Ordinal) || Machine.Contains("virt", StringComparison.Ordinal);
}

/// <summary>
/// The device one request of a VM template gets on a host, and where the guest sees it: OpenNebula's
/// PCI_ID, then VM_DOMAIN, VM_BUS, VM_SLOT, VM_FUNCTION, VM_ADDRESS (flat layout, pc and q35) or VM_BUS_INDEX
/// and VM_ADDRESS (a pinned VM's device with a known NUMA node).
/// </summary>
public sealed class PciAssignment
{
    internal PciAssignment(int request, PciTemplateSection section, PciHostDevice device)
    {
        Request = request;
        Section = section;
        Device = device;
        PciId = request;
    }

    /// <summary>The request's index among the template's PCI sections (0 is the first).</summary>
    public int Request { get; }

    public PciTemplateSection Section { get; }

    public PciHostDevice Device { get; }

    /// <summary>The device's address, so an assignment pipes into ConvertTo-PciHostdevXml.</summary>
    public string PciAddress => Device.PciAddress;

    /// <summary>OpenNebula's PCI_ID: the section's index among the VM's PCI sections, TYPE = "NIC" ones included.</summary>
    public int PciId { get; }

    /// <summary>VM_DOMAIN: <c>0x0000</c> in the flat layout; null in the NUMA layout.</summary>
    public string? VmDomain { get; internal set; }

    /// <summary>
    /// VM_BUS, printed as C++'s showbase/setw(4): <c>0x01</c> (zero prints <c>0000</c>). pc: the section's VM_BUS,
    /// else the passthrough bus; q35: PCI_ID + 1 (the root port's controller index). Null in the NUMA layout.
    /// </summary>
    public string? VmBus { get; internal set; }

    /// <summary>VM_SLOT, printed like VM_BUS: pc PCI_ID + 1 (<c>0x01</c> for the first section); q35 <c>0000</c>. Null in the NUMA layout.</summary>
    public string? VmSlot { get; internal set; }

    /// <summary>VM_FUNCTION: <c>0</c> in the flat layout; null in the NUMA layout.</summary>
    public string? VmFunction { get; internal set; }

    /// <summary>VM_ADDRESS, <c>BB:SS.0</c> without 0x: the flat bus and slot, or the NUMA layout's root port bus (<c>21:00.0</c>).</summary>
    public string? VmAddress { get; internal set; }

    /// <summary>VM_BUS_INDEX in the NUMA layout: the index of the pcie-root-port controller the device is on; else null.</summary>
    public string? VmBusIndex { get; internal set; }

    /// <summary>
    /// The vGPU profile: the section's PROFILE, else for an NVIDIA GPU (vendor 10de, class 0302) the host's
    /// or cluster's PCI_GPU_PROFILE, else null.
    /// </summary>
    public string? Profile { get; internal set; }

    /// <summary>In the NUMA layout: the device's NUMA node, whose pcie-expander-bus (or a dedicated one) holds its root port.</summary>
    public int? VmNumaNode { get; internal set; }

    public override string ToString() => $"{Section} -> {Device.ShortAddress}";
}

/// <summary>Whether a host can take the VM's PCI requests, and with which devices.</summary>
public sealed class PciPlacement
{
    public const string UnavailableMessage = "Unavailable PCI device.";

    /// <summary>OpenNebula's message when set_pci_address finds no free root port (its hot-attach error).</summary>
    public const string NoBusAddressMessage = "Cannot assign PCI bus address to device";

    internal PciPlacement(PciHostInventory host, IReadOnlyList<PciAssignment> assignments, int? failedRequest, PciTemplateSection? failedSection, string? reason, IReadOnlyList<PciGuestController>? controllers = null, string? message = null)
    {
        Message = failedRequest is null ? null : message ?? UnavailableMessage;
        HostName = host.HostName;
        HostId = host.HostId;
        Assignments = failedRequest is null ? assignments : [];
        FailedRequest = failedRequest;
        FailedSection = failedSection;
        Reason = reason;
        Controllers = failedRequest is null ? controllers ?? [] : [];
    }

    public string HostName { get; }

    public int? HostId { get; }

    public bool CanHost => FailedRequest is null;

    /// <summary>In request order; empty when the host cannot take the VM.</summary>
    public IReadOnlyList<PciAssignment> Assignments { get; }

    /// <summary>On q35 (or virt): the PCI controllers OpenNebula's KVM driver writes, pcie-root first; else empty.</summary>
    public IReadOnlyList<PciGuestController> Controllers { get; }

    /// <summary>
    /// OpenNebula's message when the host cannot take the VM (<c>Unavailable PCI device.</c>, or
    /// <c>Cannot assign PCI bus address to device</c> when a root port is missing), else null.
    /// </summary>
    public string? Message { get; }

    public int? FailedRequest { get; }

    public PciTemplateSection? FailedSection { get; }

    /// <summary>Why the failed request found no device (or no root port).</summary>
    public string? Reason { get; }

    public override string ToString() => CanHost ? $"{HostName}: {string.Join(", ", Assignments)}" : $"{HostName}: {Message} {Reason}";
}

/// <summary>
/// OpenNebula's PCI placement test (HostSharePCI): address requests first, each needing that device free;
/// then the others in order, each taking the first free device in ascending address order whose given
/// VENDOR/DEVICE/CLASS match as hex numbers (absent = any). A device is taken once. Devices on the pinned
/// NUMA nodes, then on a preferred node, are tried first for the id requests (the module's choice; OpenNebula
/// takes the first fit). Then the guest side, as set_pci_address and the KVM driver lay it out
/// (<see cref="PciGuestLayout"/>).
/// </summary>
public static class PciPlacer
{
    public static PciPlacement Place(PciHostInventory host, IReadOnlyList<PciTemplateSection> requests, int? preferNumaNode = null) =>
        Place(host, requests, new PciPlacementOptions { PreferNumaNode = preferNumaNode });

    public static PciPlacement Place(PciHostInventory host, IReadOnlyList<PciTemplateSection> requests, PciPlacementOptions options)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(options);
        var defaultBus = PciTemplateSection.ParseHex(options.PassthroughBus) is uint b && b <= 0xff
            ? b
            : throw ErrorCatalog.InvalidPassthroughBus(options.PassthroughBus);
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
            var device = candidates.FirstOrDefault(d => d.NumaNode is int n && options.NumaNodes.Contains(n))
                ?? candidates.FirstOrDefault(d => options.PreferNumaNode is not null && d.NumaNode == options.PreferNumaNode)
                ?? candidates.FirstOrDefault();
            if (device is null)
            {
                var all = host.Devices.Count(d => Matches(r, d));
                return Failed(host, i, r, all == 0 ? $"no device of host {host.HostName} matches {r}." : $"all {all} matching devices of host {host.HostName} are in use or taken by earlier PCI sections.");
            }

            taken.Add(device);
            assigned[i] = new PciAssignment(i, r, device);
        }

        var assignments = assigned.Select(a => a!).ToList();
        foreach (var a in assignments)
        {
            a.Profile = !string.IsNullOrEmpty(a.Section.Profile) ? a.Section.Profile
                : a.Device.VendorId == "10de" && a.Device.Class == "0302" ? host.GpuProfile
                : null;
        }

        if (PciGuestLayout.Assign(assignments, options, defaultBus) is { } failed)
        {
            return Failed(host, failed.Assignment.Request, failed.Assignment.Section, failed.Reason, PciPlacement.NoBusAddressMessage);
        }

        return new PciPlacement(host, assignments, null, null, null, PciGuestLayout.Controllers(assignments, options));
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
        wanted is null || uint.Parse(wanted, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture) == uint.Parse(actual, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    private static PciPlacement Failed(PciHostInventory host, int index, PciTemplateSection request, string reason, string? message = null) =>
        new(host, [], index, request, $"PCI section {index + 1} ({request}): {reason}", null, message);
}
