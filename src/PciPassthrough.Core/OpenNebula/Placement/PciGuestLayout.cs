using System.Globalization;

namespace PciPassthrough.OpenNebula.Placement;

/// <summary>
/// A PCI controller of the guest, as OpenNebula's KVM driver (LibVirtDriverKVM) writes it for a q35 (or
/// aarch64 virt) domain: pcie-root, pcie-root-port, pcie-to-pci-bridge or pcie-expander-bus.
/// </summary>
public sealed class PciGuestController
{
    internal PciGuestController(int index, string model, string? numaNode = null, string? busNr = null, int? parentBus = null, string? parentFunction = null, bool multifunction = false)
    {
        Index = index;
        Model = model;
        NumaNode = numaNode;
        BusNr = busNr;
        ParentBus = parentBus;
        ParentFunction = parentFunction;
        Multifunction = multifunction;
    }

    public int Index { get; }

    /// <summary><c>pcie-root</c>, <c>pcie-root-port</c>, <c>pcie-to-pci-bridge</c> or <c>pcie-expander-bus</c>.</summary>
    public string Model { get; }

    /// <summary>A pcie-expander-bus's guest NUMA node (&lt;target&gt;&lt;node&gt;), as the driver writes it.</summary>
    public string? NumaNode { get; }

    /// <summary>A pcie-expander-bus's first bus number (&lt;target busNr&gt;): <c>0x20 + 0x10 * node</c>, dedicated ones <c>0xa0 + 0x08 * n</c>.</summary>
    public string? BusNr { get; }

    /// <summary>For a root port on an expander: the expander's index (its address bus; slot 0).</summary>
    public int? ParentBus { get; }

    /// <summary>For a root port on an expander: its function on the expander's slot 0, as the driver writes it.</summary>
    public string? ParentFunction { get; }

    public bool Multifunction { get; }

    /// <summary>The element as the KVM driver writes it (two-space indentation instead of its tabs).</summary>
    public string ToXml() => Model switch
    {
        "pcie-root" => "<controller index='0' type='pci' model='pcie-root'/>",
        "pcie-expander-bus" => string.Create(CultureInfo.InvariantCulture, $"<controller type='pci' index='{Index}' model='pcie-expander-bus'>\n  <target busNr='{BusNr}'>\n    <node>{NumaNode}</node>\n  </target>\n</controller>"),
        _ when ParentBus is not null => string.Create(CultureInfo.InvariantCulture, $"<controller type='pci' index='{Index}' model='{Model}'>\n  <address type='pci' bus='{ParentBus}' slot='0' function='{ParentFunction}'{(Multifunction ? " multifunction='on'" : "")}/>\n</controller>"),
        _ => string.Create(CultureInfo.InvariantCulture, $"<controller type='pci' index='{Index}' model='{Model}'/>"),
    };

    public override string ToString() => ToXml();
}

/// <summary>
/// The guest side of a placement, as OpenNebula computes it (OpenNebula/one, master of 2026-08-20, commit
/// f847cf2e): HostSharePCI::set_pci_address gives each assigned section its guest address in allocation
/// order (SHORT_ADDRESS sections first, then the others, each pass in template order), and
/// LibVirtDriverKVM writes the controllers those addresses refer to.
/// </summary>
internal static class PciGuestLayout
{
    /// <summary>Q35_ROOT_DEFAULT_PORTS of LibVirtDriver.h: the flat q35 layout's root ports (Q35_ROOT_PORTS).</summary>
    public const int Q35RootPorts = 16;

    /// <summary>Root ports on one NUMA node's pcie-expander-bus.</summary>
    public const int RootPortsPerNode = 8;

    /// <summary>
    /// set_pci_address walks the dedicated ports from first_port to first_port + 24 in steps of 2: 12
    /// ports, although its comment says "Up to 8 dedicated".
    /// </summary>
    public const int DedicatedRootPorts = 12;

    /// <summary>
    /// Sets each assignment's guest address; returns the first assignment (in allocation order) that got
    /// no root port, with the reason, or null.
    /// </summary>
    public static (PciAssignment Assignment, string Reason)? Assign(IReadOnlyList<PciAssignment> assignments, PciPlacementOptions options, uint defaultBus)
    {
        // palloc: the root ports taken per host NUMA node; the dedicated ports share one set (UINT_MAX in OpenNebula).
        var palloc = new Dictionary<int, HashSet<int>>();
        var totalNodes = options.NumaNodes.Count;
        foreach (var a in assignments.Where(a => a.Section.IsAddressRequest).Concat(assignments.Where(a => !a.Section.IsAddressRequest)))
        {
            // The NUMA layout needs a pinned VM and a device with a known NUMA node, whatever the machine type.
            if (totalNodes > 0 && a.Device.NumaNode is int node)
            {
                var dedicated = a.Section.IsDedicatedRoot;
                var ports = palloc.TryGetValue(dedicated ? -1 : node, out var p) ? p : palloc[dedicated ? -1 : node] = [];
                var (first, count, step, bus, busStep) = dedicated
                    ? (3 + (totalNodes * 9) + 1, DedicatedRootPorts, 2, 0xA0 + 1, 0x08)
                    : (3 + (node * 9) + 1, RootPortsPerNode, 1, 0x20 + (0x10 * node) + 1, 1);
                var k = Enumerable.Range(0, count).FirstOrDefault(i => !ports.Contains(first + (i * step)), -1);
                if (k < 0)
                {
                    return (a, dedicated
                        ? $"no free root port: the {DedicatedRootPorts} root ports for ROOT = \"dedicated\" devices (VM_BUS_INDEX {first} to {first + ((count - 1) * step)}) are taken by earlier PCI sections."
                        : $"no free root port: the {RootPortsPerNode} root ports of NUMA node {node}'s pcie-expander-bus (VM_BUS_INDEX {first} to {first + count - 1}) are taken by earlier PCI sections.");
                }

                var index = first + (k * step);
                ports.Add(index);
                a.VmBusIndex = index.ToString(CultureInfo.InvariantCulture);
                a.VmAddress = string.Create(CultureInfo.InvariantCulture, $"{bus + (k * busStep):x2}:00.0");
                a.VmNumaNode = node;
                continue;
            }

            // Flat: slot PCI_ID + 1 on VM_BUS (or the passthrough bus); on q35 the bus is PCI_ID + 1, slot 0.
            var slot = (uint)a.PciId + 1;
            var ibus = string.IsNullOrEmpty(a.Section.VmBus) ? defaultBus : Templates.PciTemplateSection.ParseHex(a.Section.VmBus)!.Value;
            if (options.IsQ35)
            {
                ibus = slot;
                slot = 0;
            }

            a.VmDomain = "0x0000";
            a.VmFunction = "0";
            a.VmBus = ShowBase(ibus);
            a.VmSlot = ShowBase(slot);
            a.VmAddress = string.Create(CultureInfo.InvariantCulture, $"{ibus:x2}:{slot:x2}.0");
        }

        return null;
    }

    /// <summary>
    /// C++'s <c>showbase &lt;&lt; internal &lt;&lt; hex &lt;&lt; setfill('0') &lt;&lt; setw(4)</c>: <c>0x01</c>, <c>0x12d</c>,
    /// and <c>0000</c> for zero (showbase prints no 0x for 0, as printf's <c>%#x</c>).
    /// </summary>
    public static string ShowBase(uint value) => value == 0 ? "0000" : string.Create(CultureInfo.InvariantCulture, $"0x{value:x2}");

    /// <summary>
    /// The PCI controllers LibVirtDriverKVM writes for a q35 or virt machine; none for another machine.
    /// Flat: pcie-root, root ports 1 to 16, a pcie-to-pci-bridge. Pinned: pcie-root, root port 1,
    /// pcie-to-pci-bridge 2, per guest NUMA node i a pcie-expander-bus at 3 + 9i (busNr 0x20 + 0x10i) with
    /// 8 root ports (functions 0 to 7 of its slot 0), then per ROOT = "dedicated" section in template order an
    /// expander (busNr 0xa0 + 8n, the device's NUMA node) and its root port.
    /// </summary>
    public static IReadOnlyList<PciGuestController> Controllers(IReadOnlyList<PciAssignment> assignments, PciPlacementOptions options)
    {
        if (!options.IsQ35)
        {
            return [];
        }

        var list = new List<PciGuestController> { new(0, "pcie-root") };
        if (options.NumaNodes.Count == 0)
        {
            list.AddRange(Enumerable.Range(1, Q35RootPorts).Select(i => new PciGuestController(i, "pcie-root-port")));
            list.Add(new PciGuestController(Q35RootPorts + 1, "pcie-to-pci-bridge"));
            return list;
        }

        list.Add(new PciGuestController(1, "pcie-root-port"));
        list.Add(new PciGuestController(2, "pcie-to-pci-bridge"));
        for (var i = 0; i < options.NumaNodes.Count; i++)
        {
            var expander = 3 + (i * 9);
            list.Add(new PciGuestController(expander, "pcie-expander-bus", i.ToString(CultureInfo.InvariantCulture), ShowBase((uint)(0x20 + (0x10 * i)))));
            list.AddRange(Enumerable.Range(0, RootPortsPerNode).Select(j => new PciGuestController(expander + 1 + j, "pcie-root-port", parentBus: expander, parentFunction: j.ToString(CultureInfo.InvariantCulture), multifunction: j == 0)));
        }

        var busIndex = 3 + (options.NumaNodes.Count * 9);
        var ddev = 0;
        foreach (var a in assignments.Where(a => a.Section.IsDedicatedRoot))
        {
            list.Add(new PciGuestController(busIndex, "pcie-expander-bus", a.Device.NumaNode?.ToString(CultureInfo.InvariantCulture) ?? "", ShowBase((uint)(0xA0 + (0x08 * ddev)))));
            list.Add(new PciGuestController(busIndex + 1, "pcie-root-port", parentBus: busIndex, parentFunction: "0x0"));
            busIndex += 2;
            ddev++;
        }

        return list;
    }
}
