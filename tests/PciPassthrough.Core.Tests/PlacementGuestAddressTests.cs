using PciPassthrough.OpenNebula.Placement;
using PciPassthrough.OpenNebula.Templates;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// The guest side of a placement. Expected strings are worked out by hand from OpenNebula's C++ source
/// (OpenNebula/one master, commit f847cf2e of 2026-08-20), never taken from the module's output:
/// - VirtualMachineParser.cc parse_pci: PCI_ID 0, 1, ... in template order, TYPE = "NIC" sections included;
///   check_pci_attributes stores PCI_PASSTHROUGH_BUS as VM_BUS when a section has none.
/// - HostSharePCI::add: set_pci_address runs in allocation order: the SHORT_ADDRESS-only sections first,
///   then the others, each pass in template order.
/// - set_pci_address, NUMA layout (the VM has NUMA_NODE elements and the device a NUMA_NODE n), whatever the
///   machine: shared ports per node n: VM_BUS_INDEX 3 + 9n + 1 + k (k = first free, 0 to 7), VM_ADDRESS
///   "%02x:00.0" of 0x20 + 0x10n + 1 + k; ROOT = "dedicated": one port set for all nodes, VM_BUS_INDEX
///   3 + 9 * total_nodes + 1 + 2k (k = 0 to 11: the loop runs to first_port + 24 in steps of 2), VM_ADDRESS of
///   0xa1 + 8k; no free port: -1 (OpenNebula's hot-attach says "Cannot assign PCI bus address to device").
///   VM_DOMAIN/VM_BUS/VM_SLOT/VM_FUNCTION are not set.
/// - set_pci_address, flat layout (otherwise): VM_DOMAIN "0x0000", VM_FUNCTION "0", slot = PCI_ID + 1,
///   bus = VM_BUS; q35 ("q35" or "virt" in OS/MACHINE, case-sensitive): bus = PCI_ID + 1, slot = 0.
///   VM_SLOT and VM_BUS with showbase/internal/hex/setfill('0')/setw(4): "0x01", and "0000" for zero
///   (C++ prints no 0x for 0); VM_ADDRESS "%02x:%02x.0". No VM_BUS_INDEX.
/// - LibVirtDriverKVM.cc, q35: controller 0 pcie-root; flat: root ports 1 to 16 (Q35_ROOT_DEFAULT_PORTS) and a
///   pcie-to-pci-bridge 17; pinned: root port 1, pcie-to-pci-bridge 2, per guest node i an expander
///   3 + 9i (busNr 0x20 + 0x10i, node i) with root ports 3 + 9i + 1 + j on its slot 0 function j
///   (multifunction on j = 0); then per ROOT = "dedicated" section in TEMPLATE order an expander at
///   3 + 9 * nodes + 2d (busNr 0xa0 + 8d, node = the device's NUMA_NODE) and its root port.
/// </summary>
public class PlacementGuestAddressTests
{
    private static IReadOnlyList<PciTemplateSection> Sections(string text) => PciTemplateReader.Read(text);

    private static PciHostInventory Hv1() => HostInventoryXml.Read(OneHostXml.Pool)[0];

    // node 0: 01..0a:00.0; node 1: 81..83:00.0 (all 10de:2330:0302); node unknown: 40:00.0 (8086:1520:0200).
    private static PciHostInventory NumaHost()
    {
        var devices = Enumerable.Range(1, 10).Select(b => PciHostDevice.Create($"0000:{b:x2}:00.0", "10de", "2330", "0302", -1, 0, null, "t"))
            .Concat(Enumerable.Range(0x81, 3).Select(b => PciHostDevice.Create($"0000:{b:x2}:00.0", "10de", "2330", "0302", -1, 1, null, "t")))
            .Append(PciHostDevice.Create("0000:40:00.0", "8086", "1520", "0200", -1, null, null, "t"));
        return new PciHostInventory("numa", 9, devices);
    }

    private static string[] Rows(PciPlacement p)
    {
        Assert.True(p.CanHost, p.Reason);
        return p.Assignments.Select(a => $"{a.PciId} {a.Device.ShortAddress} {a.VmDomain ?? "-"} {a.VmBus ?? "-"} {a.VmSlot ?? "-"} {a.VmFunction ?? "-"} {a.VmAddress ?? "-"} {a.VmBusIndex ?? "-"} {a.VmNumaNode?.ToString() ?? "-"}").ToArray();
    }

    private static string[] Controllers(PciPlacement p) =>
        p.Controllers.Select(c => $"{c.Index} {c.Model}{(c.NumaNode is null ? "" : $" node {c.NumaNode} busNr {c.BusNr}")}{(c.ParentBus is null ? "" : $" on {c.ParentBus} fn {c.ParentFunction}")}").ToArray();

    private static readonly string[] FlatQ35Controllers =
        ["0 pcie-root", .. Enumerable.Range(1, 16).Select(i => $"{i} pcie-root-port"), "17 pcie-to-pci-bridge"];

    // The pinned layout's fixed part for guest nodes 0 .. nodes-1.
    private static string[] PinnedControllers(int nodes) =>
        ["0 pcie-root", "1 pcie-root-port", "2 pcie-to-pci-bridge",
         .. Enumerable.Range(0, nodes).SelectMany(i => new[] { $"{3 + (9 * i)} pcie-expander-bus node {i} busNr 0x{0x20 + (0x10 * i):x2}" }
             .Concat(Enumerable.Range(0, 8).Select(j => $"{3 + (9 * i) + 1 + j} pcie-root-port on {3 + (9 * i)} fn {j}")))];

    private const string ThreeSections = """
        PCI = [ CLASS = "0302" ]
        PCI = [ TYPE = "NIC", NETWORK = "sriov", DEVICE = "1520" ]
        PCI = [ SHORT_ADDRESS = "41:00.0", VM_BUS = "0x06" ]
        """;

    public static TheoryData<string, string, string[]> FlatCases => new()
    {
        // machine, passthrough bus, rows: PCI_ID device VM_DOMAIN VM_BUS VM_SLOT VM_FUNCTION VM_ADDRESS VM_BUS_INDEX node
        { "pc", "0x01", ["0 01:00.0 0x0000 0x01 0x01 0 01:01.0 - -", "1 02:10.4 0x0000 0x01 0x02 0 01:02.0 - -", "2 41:00.0 0x0000 0x06 0x03 0 06:03.0 - -"] },
        { "pc-i440fx-8.2", "0x0a", ["0 01:00.0 0x0000 0x0a 0x01 0 0a:01.0 - -", "1 02:10.4 0x0000 0x0a 0x02 0 0a:02.0 - -", "2 41:00.0 0x0000 0x06 0x03 0 06:03.0 - -"] },
        { "pc", "2", ["0 01:00.0 0x0000 0x02 0x01 0 02:01.0 - -", "1 02:10.4 0x0000 0x02 0x02 0 02:02.0 - -", "2 41:00.0 0x0000 0x06 0x03 0 06:03.0 - -"] },
        // Bus 0: showbase prints no 0x for zero.
        { "pc", "0x00", ["0 01:00.0 0x0000 0000 0x01 0 00:01.0 - -", "1 02:10.4 0x0000 0000 0x02 0 00:02.0 - -", "2 41:00.0 0x0000 0x06 0x03 0 06:03.0 - -"] },
        // q35: bus PCI_ID + 1, slot 0 (printed 0000); the section's VM_BUS and the passthrough bus play no part.
        { "q35", "0x01", ["0 01:00.0 0x0000 0x01 0000 0 01:00.0 - -", "1 02:10.4 0x0000 0x02 0000 0 02:00.0 - -", "2 41:00.0 0x0000 0x03 0000 0 03:00.0 - -"] },
        { "pc-q35-8.2", "0x05", ["0 01:00.0 0x0000 0x01 0000 0 01:00.0 - -", "1 02:10.4 0x0000 0x02 0000 0 02:00.0 - -", "2 41:00.0 0x0000 0x03 0000 0 03:00.0 - -"] },
        { "virt", "0x01", ["0 01:00.0 0x0000 0x01 0000 0 01:00.0 - -", "1 02:10.4 0x0000 0x02 0000 0 02:00.0 - -", "2 41:00.0 0x0000 0x03 0000 0 03:00.0 - -"] },
        // test_machine_type is a case-sensitive find: Q35 is not q35.
        { "pc-Q35", "0x01", ["0 01:00.0 0x0000 0x01 0x01 0 01:01.0 - -", "1 02:10.4 0x0000 0x01 0x02 0 01:02.0 - -", "2 41:00.0 0x0000 0x06 0x03 0 06:03.0 - -"] },
    };

    [Theory]
    [MemberData(nameof(FlatCases))]
    public void Sections_get_opennebulas_guest_addresses_by_pci_id(string machine, string bus, string[] rows)
    {
        var p = PciPlacer.Place(Hv1(), Sections(ThreeSections), new PciPlacementOptions { Machine = machine, PassthroughBus = bus });
        Assert.Equal(rows, Rows(p));
        Assert.Equal(rows[0].Contains("0000 0 01:00.0") ? FlatQ35Controllers : [], Controllers(p));
    }

    [Fact]
    public void Slots_are_hex_and_the_address_request_keeps_its_template_position()
    {
        // 12 sections; the SHORT_ADDRESS one is placed first (pass 1) but keeps PCI_ID 10.
        var text = string.Concat(Enumerable.Range(0, 10).Select(_ => "PCI = [ CLASS = \"0302\" ]\n")) + "PCI = [ SHORT_ADDRESS = \"81:00.0\" ]\nPCI = [ VENDOR = \"8086\" ]\n";
        var rows = Rows(PciPlacer.Place(NumaHost(), Sections(text), new PciPlacementOptions()));
        Assert.Equal("9 0a:00.0 0x0000 0x01 0x0a 0 01:0a.0 - -", rows[9]);
        Assert.Equal("10 81:00.0 0x0000 0x01 0x0b 0 01:0b.0 - -", rows[10]);
        Assert.Equal("11 40:00.0 0x0000 0x01 0x0c 0 01:0c.0 - -", rows[11]);
        var q35 = Rows(PciPlacer.Place(NumaHost(), Sections(text), new PciPlacementOptions { Machine = "q35" }));
        Assert.Equal("11 40:00.0 0x0000 0x0c 0000 0 0c:00.0 - -", q35[11]);
    }

    [Fact]
    public void Numa_pinning_gives_root_ports_in_allocation_order_and_dedicated_ones_from_one_pool()
    {
        // Allocation order: PCI_ID 0 and 4 (SHORT_ADDRESS) first, then 1, 2, 3.
        // 0: 81:00.0 node 1 shared -> first port of node 1: 3 + 9 + 1 = 13, bus 0x31.
        // 4: 82:00.0 dedicated -> first dedicated port 3 + 9 * 2 + 1 = 22, bus 0xa1.
        // 1: 01:00.0 node 0 shared -> 4, bus 0x21.   2: 02:00.0 dedicated -> 24, bus 0xa9.
        // 3: 40:00.0 has no NUMA node -> flat q35 layout: bus PCI_ID + 1.
        var p = PciPlacer.Place(NumaHost(), Sections("""
            PCI = [ SHORT_ADDRESS = "81:00.0" ]
            PCI = [ CLASS = "0302" ]
            PCI = [ CLASS = "0302", ROOT = "dedicated" ]
            PCI = [ DEVICE = "1520" ]
            PCI = [ SHORT_ADDRESS = "82:00.0", ROOT = "DEDICATED" ]
            """), new PciPlacementOptions { Machine = "q35", NumaNodes = [0, 1] });
        Assert.Equal(
            [
                "0 81:00.0 - - - - 31:00.0 13 1",
                "1 01:00.0 - - - - 21:00.0 4 0",
                "2 02:00.0 - - - - a9:00.0 24 0",
                "3 40:00.0 0x0000 0x04 0000 0 04:00.0 - -",
                "4 82:00.0 - - - - a1:00.0 22 1",
            ],
            Rows(p));

        // The driver lays the dedicated expanders out in TEMPLATE order (PCI_ID 2, then 4): port 24 (PCI_ID 2,
        // node 0) sits behind the expander the driver labels with PCI_ID 4's node, as OpenNebula does.
        Assert.Equal(
            [.. PinnedControllers(2), "21 pcie-expander-bus node 0 busNr 0xa0", "22 pcie-root-port on 21 fn 0x0", "23 pcie-expander-bus node 1 busNr 0xa8", "24 pcie-root-port on 23 fn 0x0"],
            Controllers(p));
        Assert.Equal("<controller index='0' type='pci' model='pcie-root'/>", p.Controllers[0].ToXml());
        Assert.Equal("<controller type='pci' index='2' model='pcie-to-pci-bridge'/>", p.Controllers[2].ToXml());
        Assert.Equal("<controller type='pci' index='12' model='pcie-expander-bus'>\n  <target busNr='0x30'>\n    <node>1</node>\n  </target>\n</controller>", p.Controllers[12].ToXml());
        Assert.Equal("<controller type='pci' index='4' model='pcie-root-port'>\n  <address type='pci' bus='3' slot='0' function='0' multifunction='on'/>\n</controller>", p.Controllers[4].ToXml());
        Assert.Equal("<controller type='pci' index='5' model='pcie-root-port'>\n  <address type='pci' bus='3' slot='0' function='1'/>\n</controller>", p.Controllers[5].ToXml());
        Assert.Equal("<controller type='pci' index='22' model='pcie-root-port'>\n  <address type='pci' bus='21' slot='0' function='0x0'/>\n</controller>", p.Controllers[22].ToXml());
    }

    [Fact]
    public void The_numa_layout_follows_the_devices_node_whatever_the_machine()
    {
        // Pinned to one guest node; the devices of host node 1 take node 1's ports (13, 14, 15; bus 0x31..),
        // 01:00.0 node 0's first port (4, bus 0x21). set_pci_address does not look at the machine type.
        var four = "PCI = [ CLASS = \"0302\" ]\nPCI = [ CLASS = \"0302\" ]\nPCI = [ CLASS = \"0302\" ]\nPCI = [ CLASS = \"0302\" ]";
        string[] rows = ["0 81:00.0 - - - - 31:00.0 13 1", "1 82:00.0 - - - - 32:00.0 14 1", "2 83:00.0 - - - - 33:00.0 15 1", "3 01:00.0 - - - - 21:00.0 4 0"];
        var q35 = PciPlacer.Place(NumaHost(), Sections(four), new PciPlacementOptions { Machine = "q35", NumaNodes = [1] });
        Assert.Equal(rows, Rows(q35));
        Assert.Equal(PinnedControllers(1), Controllers(q35));
        var pc = PciPlacer.Place(NumaHost(), Sections(four), new PciPlacementOptions { NumaNodes = [1] });
        Assert.Equal(rows, Rows(pc));
        Assert.Empty(pc.Controllers);
    }

    [Fact]
    public void A_ninth_shared_device_on_a_node_finds_no_root_port_and_a_dedicated_one_does()
    {
        var nine = string.Concat(Enumerable.Range(0, 9).Select(_ => "PCI = [ CLASS = \"0302\" ]\n"));
        var p = PciPlacer.Place(NumaHost(), Sections(nine), new PciPlacementOptions { Machine = "q35", NumaNodes = [0] });
        Assert.False(p.CanHost);
        Assert.Equal(8, p.FailedRequest);
        Assert.Equal("Cannot assign PCI bus address to device", p.Message);
        Assert.Equal("PCI section 9 (PCI = [ CLASS = \"0302\" ]): no free root port: the 8 root ports of NUMA node 0's pcie-expander-bus (VM_BUS_INDEX 4 to 11) are taken by earlier PCI sections.", p.Reason);
        Assert.Empty(p.Assignments);
        Assert.Empty(p.Controllers);

        var eightAndOne = string.Concat(Enumerable.Range(0, 8).Select(_ => "PCI = [ CLASS = \"0302\" ]\n")) + "PCI = [ CLASS = \"0302\", ROOT = \"dedicated\" ]\n";
        var ok = PciPlacer.Place(NumaHost(), Sections(eightAndOne), new PciPlacementOptions { Machine = "q35", NumaNodes = [0] });
        Assert.Equal("7 08:00.0 - - - - 28:00.0 11 0", Rows(ok)[7]);
        Assert.Equal("8 09:00.0 - - - - a1:00.0 13 0", Rows(ok)[8]);
        Assert.Equal(["12 pcie-expander-bus node 0 busNr 0xa0", "13 pcie-root-port on 12 fn 0x0"], Controllers(ok)[12..]);

        // Without pinning the layout is flat: nothing limits the root ports to 8.
        Assert.True(PciPlacer.Place(NumaHost(), Sections(nine), new PciPlacementOptions { Machine = "q35" }).CanHost);
    }

    [Fact]
    public void Twelve_dedicated_root_ports_exist_not_eight()
    {
        // first_port 3 + 9 + 1 = 13, then 15, ..., 35; bus 0xa1 + 8k. The 13th finds none.
        var sections = string.Concat(Enumerable.Range(0, 13).Select(_ => "PCI = [ CLASS = \"0302\", ROOT = \"dedicated\" ]\n"));
        var p = PciPlacer.Place(NumaHost(), Sections(sections), new PciPlacementOptions { Machine = "q35", NumaNodes = [0] });
        Assert.Equal(12, p.FailedRequest);
        Assert.Equal("PCI section 13 (PCI = [ CLASS = \"0302\", ROOT = \"dedicated\" ]): no free root port: the 12 root ports for ROOT = \"dedicated\" devices (VM_BUS_INDEX 13 to 35) are taken by earlier PCI sections.", p.Reason);
        var twelve = PciPlacer.Place(NumaHost(), Sections(string.Concat(Enumerable.Repeat("PCI = [ CLASS = \"0302\", ROOT = \"dedicated\" ]\n", 12))), new PciPlacementOptions { Machine = "q35", NumaNodes = [0] });
        Assert.Equal("11 82:00.0 - - - - f9:00.0 35 1", Rows(twelve)[11]);
        Assert.Equal("0 01:00.0 - - - - a1:00.0 13 0", Rows(twelve)[0]);
    }

    [Theory]
    [InlineData("0x1g")]
    [InlineData("0x100")]
    [InlineData("")]
    public void A_bad_passthrough_bus_is_refused(string bus)
    {
        var e = Assert.Throws<PciPassthroughException>(() => PciPlacer.Place(Hv1(), Sections("PCI = [ CLASS = \"0302\" ]"), new PciPlacementOptions { PassthroughBus = bus }));
        Assert.Equal(ErrorIds.InvalidPlacementOptions, e.ErrorId);
        Assert.NotNull(e.RecommendedAction);
    }
}
