using System.Globalization;
using PciPassthrough.OpenNebula.Templates;

namespace PciPassthrough.OpenNebula.Placement;

/// <summary>How Find-PciPlacement lays out the guest side: the machine type, the passthrough bus, NUMA pinning.</summary>
public sealed class PciPlacementOptions
{
    /// <summary>oned.conf's PCI_PASSTHROUGH_BUS default.</summary>
    public const string DefaultPassthroughBus = "0x01";

    /// <summary>Root ports on one NUMA node's pcie-expander-bus.</summary>
    public const int RootPortsPerExpander = 8;

    /// <summary>The VM's machine type (OS/MACHINE); one containing <c>q35</c> gets PCIe root ports.</summary>
    public string Machine { get; init; } = "pc";

    /// <summary>The guest bus of the flat layout when a section has no VM_BUS.</summary>
    public string PassthroughBus { get; init; } = DefaultPassthroughBus;

    /// <summary>The NUMA nodes the VM is pinned to; empty when it is not pinned.</summary>
    public IReadOnlyList<int> NumaNodes { get; init; } = [];

    /// <summary>Devices on this node are tried first (after the pinned nodes).</summary>
    public int? PreferNumaNode { get; init; }

    public bool IsQ35 => Machine.Contains("q35", StringComparison.OrdinalIgnoreCase);
}

/// <summary>A PCI controller the guest needs for a q35 layout, as libvirt's &lt;controller type='pci'&gt;.</summary>
public sealed class PciGuestController(int index, string model, int? numaNode, int? parentBus, int? parentSlot)
{
    public int Index { get; } = index;

    /// <summary><c>pcie-root</c>, <c>pcie-expander-bus</c> or <c>pcie-root-port</c>.</summary>
    public string Model { get; } = model;

    /// <summary>The NUMA node of a pcie-expander-bus.</summary>
    public int? NumaNode { get; } = numaNode;

    /// <summary>For a root port on an expander: the expander's index and the port's slot on it.</summary>
    public int? ParentBus { get; } = parentBus;

    public int? ParentSlot { get; } = parentSlot;

    public string ToXml() => Model switch
    {
        "pcie-expander-bus" => string.Create(CultureInfo.InvariantCulture, $"<controller type='pci' index='{Index}' model='pcie-expander-bus'>\n  <target>\n    <node>{NumaNode}</node>\n  </target>\n</controller>"),
        _ when ParentBus is not null => string.Create(CultureInfo.InvariantCulture, $"<controller type='pci' index='{Index}' model='{Model}'>\n  <address type='pci' domain='0x0000' bus='0x{ParentBus:x2}' slot='0x{ParentSlot:x2}' function='0x0'/>\n</controller>"),
        _ => string.Create(CultureInfo.InvariantCulture, $"<controller type='pci' index='{Index}' model='{Model}'/>"),
    };

    public override string ToString() => ToXml();
}

/// <summary>
/// The device one request of a VM template gets on a host, and where the guest sees it: OpenNebula's
/// PCI_ID, VM_DOMAIN, VM_BUS, VM_SLOT, VM_FUNCTION, VM_ADDRESS (flat layout) or VM_BUS_INDEX (q35).
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

    /// <summary>VM_DOMAIN: always <c>0x0000</c>.</summary>
    public string VmDomain { get; } = "0x0000";

    /// <summary>VM_BUS, <c>0x%02x</c>: the section's VM_BUS or the passthrough bus; null on q35.</summary>
    public string? VmBus { get; internal set; }

    /// <summary>VM_SLOT, <c>0x%02x</c> of PCI_ID + 1 (slot 0 is not used); null on q35.</summary>
    public string? VmSlot { get; internal set; }

    /// <summary>VM_FUNCTION: always <c>0</c>.</summary>
    public string VmFunction { get; } = "0";

    /// <summary>VM_ADDRESS, <c>BB:SS.0</c> without 0x; null on q35.</summary>
    public string? VmAddress { get; internal set; }

    /// <summary>VM_BUS_INDEX on q35: the index of the pcie-root-port controller the device is on; else null.</summary>
    public string? VmBusIndex { get; internal set; }

    /// <summary>
    /// The vGPU profile: the section's PROFILE, else for an NVIDIA GPU (vendor 10de, class 0302) the host's
    /// or cluster's PCI_GPU_PROFILE, else null.
    /// </summary>
    public string? Profile { get; internal set; }

    /// <summary>With NUMA pinning on q35: the NUMA node whose pcie-expander-bus holds the device's root port.</summary>
    public int? VmNumaNode { get; internal set; }

    public override string ToString() => $"{Section} -> {Device.ShortAddress}";
}

/// <summary>Whether a host can take the VM's PCI requests, and with which devices.</summary>
public sealed class PciPlacement
{
    public const string UnavailableMessage = "Unavailable PCI device.";

    internal PciPlacement(PciHostInventory host, IReadOnlyList<PciAssignment> assignments, int? failedRequest, PciTemplateSection? failedSection, string? reason, IReadOnlyList<PciGuestController>? controllers = null)
    {
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

    /// <summary>On q35: the PCI controllers the assignments' VM_BUS_INDEX refer to, pcie-root first; else empty.</summary>
    public IReadOnlyList<PciGuestController> Controllers { get; }

    /// <summary>OpenNebula's message when the host cannot take the VM, else null.</summary>
    public string? Message => CanHost ? null : UnavailableMessage;

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
/// NUMA nodes, then on a preferred node, are tried first for the id requests. Then the guest side, as
/// set_pci_address and the KVM driver lay it out (see <see cref="PciAssignment"/>).
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

        if (!options.IsQ35)
        {
            foreach (var a in assignments)
            {
                // set_pci_address: VM_BUS "0x%02x" (showbase, width 4), VM_SLOT "0x%02x" of PCI_ID + 1,
                // VM_ADDRESS "%02x:%02x.0".
                var bus = string.IsNullOrEmpty(a.Section.VmBus) ? defaultBus : PciTemplateSection.ParseHex(a.Section.VmBus)!.Value;
                var slot = a.PciId + 1;
                a.VmBus = string.Create(CultureInfo.InvariantCulture, $"0x{bus:x2}");
                a.VmSlot = string.Create(CultureInfo.InvariantCulture, $"0x{slot:x2}");
                a.VmAddress = string.Create(CultureInfo.InvariantCulture, $"{bus:x2}:{slot:x2}.0");
            }

            return new PciPlacement(host, assignments, null, null, null);
        }

        var controllers = new List<PciGuestController> { new(0, "pcie-root", null, null, null) };
        if (options.NumaNodes.Count == 0)
        {
            foreach (var a in assignments)
            {
                var index = a.PciId + 1;
                controllers.Add(new PciGuestController(index, "pcie-root-port", null, null, null));
                a.VmBusIndex = index.ToString(CultureInfo.InvariantCulture);
            }

            return new PciPlacement(host, assignments, null, null, null, controllers);
        }

        // NUMA pinning: one pcie-expander-bus per node (ascending) with a root port per device, at most
        // RootPortsPerExpander; then each ROOT = "dedicated" device on an expander of its own.
        int NodeOf(PciAssignment a) => a.Device.NumaNode is int n && options.NumaNodes.Contains(n) ? n : options.NumaNodes[0];
        var next = 1;
        foreach (var group in assignments.Where(a => !a.Section.IsDedicatedRoot).GroupBy(NodeOf).OrderBy(g => g.Key))
        {
            var onNode = group.ToList();
            if (onNode.Count > PciPlacementOptions.RootPortsPerExpander)
            {
                var a = onNode[PciPlacementOptions.RootPortsPerExpander];
                return Failed(host, a.Request, a.Section, $"no free root port: the pcie-expander-bus of NUMA node {group.Key} has {PciPlacementOptions.RootPortsPerExpander} root ports, all taken by earlier PCI sections.");
            }

            var expander = next++;
            controllers.Add(new PciGuestController(expander, "pcie-expander-bus", group.Key, null, null));
            for (var k = 0; k < onNode.Count; k++)
            {
                Port(onNode[k], expander, k, group.Key);
            }
        }

        foreach (var a in assignments.Where(a => a.Section.IsDedicatedRoot))
        {
            var expander = next++;
            controllers.Add(new PciGuestController(expander, "pcie-expander-bus", NodeOf(a), null, null));
            Port(a, expander, 0, NodeOf(a));
        }

        return new PciPlacement(host, assignments, null, null, null, controllers);

        void Port(PciAssignment a, int expander, int slot, int node)
        {
            var index = next++;
            controllers.Add(new PciGuestController(index, "pcie-root-port", null, expander, slot));
            a.VmBusIndex = index.ToString(CultureInfo.InvariantCulture);
            a.VmNumaNode = node;
        }
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

    private static PciPlacement Failed(PciHostInventory host, int index, PciTemplateSection request, string reason) =>
        new(host, [], index, request, $"PCI section {index + 1} ({request}): {reason}");
}
