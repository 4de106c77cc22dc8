using PciPassthrough.OpenNebula.Placement;
using PciPassthrough.OpenNebula.Templates;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// The guest side of a placement. Expected strings are written by hand from OpenNebula's rules, never
/// taken from the module's output:
/// - parse_pci numbers the VM's PCI sections in template order, TYPE = "NIC" ones included: PCI_ID 0, 1, ...
/// - HostSharePCI::set_pci_address (flat layout): VM_DOMAIN "0x0000"; VM_BUS = the section's VM_BUS, else
///   oned.conf's PCI_PASSTHROUGH_BUS ("0x01"), printed with showbase/setw(4)/setfill('0'), i.e. "0x%02x";
///   VM_SLOT likewise of PCI_ID + 1; VM_FUNCTION "0"; VM_ADDRESS "%02x:%02x.0" of bus and slot.
/// - q35 (a machine type containing q35), assumed: pcie-root is controller 0 and each device gets a
///   pcie-root-port, VM_BUS_INDEX = that controller's index = PCI_ID + 1; VM_BUS, VM_SLOT and VM_ADDRESS
///   are not set.
/// - q35 with NUMA pinning, assumed layout: one pcie-expander-bus per pinned node in ascending node order,
///   each followed by the root ports of that node's devices in PCI_ID order (slots 0x00, 0x01, ... on the
///   expander, at most 8); then each ROOT = "dedicated" device in PCI_ID order on an expander of its own.
///   A device whose NUMA node is unknown or not pinned goes to the first pinned node.
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
        return p.Assignments.Select(a => $"{a.PciId} {a.Device.ShortAddress} {a.VmDomain} {a.VmBus ?? "-"} {a.VmSlot ?? "-"} {a.VmFunction} {a.VmAddress ?? "-"} {a.VmBusIndex ?? "-"} {a.VmNumaNode?.ToString() ?? "-"}").ToArray();
    }

    private static string[] Controllers(PciPlacement p) =>
        p.Controllers.Select(c => $"{c.Index} {c.Model}{(c.NumaNode is null ? "" : " node " + c.NumaNode)}{(c.ParentBus is null ? "" : $" on {c.ParentBus} slot {c.ParentSlot}")}").ToArray();

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
        { "q35", "0x01", ["0 01:00.0 0x0000 - - 0 - 1 -", "1 02:10.4 0x0000 - - 0 - 2 -", "2 41:00.0 0x0000 - - 0 - 3 -"] },
        { "pc-q35-8.2", "0x05", ["0 01:00.0 0x0000 - - 0 - 1 -", "1 02:10.4 0x0000 - - 0 - 2 -", "2 41:00.0 0x0000 - - 0 - 3 -"] },
    };

    [Theory]
    [MemberData(nameof(FlatCases))]
    public void Sections_get_opennebulas_guest_addresses_by_pci_id(string machine, string bus, string[] rows)
    {
        var p = PciPlacer.Place(Hv1(), Sections(ThreeSections), new PciPlacementOptions { Machine = machine, PassthroughBus = bus });
        Assert.Equal(rows, Rows(p));
        Assert.Equal(machine.Contains("q35") ? ["0 pcie-root", "1 pcie-root-port", "2 pcie-root-port", "3 pcie-root-port"] : [], Controllers(p));
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
    }

    [Fact]
    public void Numa_pinning_on_q35_puts_each_nodes_devices_behind_its_expander_and_dedicated_ones_alone()
    {
        var p = PciPlacer.Place(NumaHost(), Sections("""
            PCI = [ SHORT_ADDRESS = "81:00.0" ]
            PCI = [ CLASS = "0302" ]
            PCI = [ CLASS = "0302", ROOT = "dedicated" ]
            PCI = [ DEVICE = "1520" ]
            PCI = [ SHORT_ADDRESS = "82:00.0", ROOT = "DEDICATED" ]
            """), new PciPlacementOptions { Machine = "q35", NumaNodes = [0, 1] });
        Assert.Equal(
            [
                "0 81:00.0 0x0000 - - 0 - 5 1",
                "1 01:00.0 0x0000 - - 0 - 2 0",
                "2 02:00.0 0x0000 - - 0 - 7 0",
                "3 40:00.0 0x0000 - - 0 - 3 0",
                "4 82:00.0 0x0000 - - 0 - 9 1",
            ],
            Rows(p));
        Assert.Equal(
            [
                "0 pcie-root",
                "1 pcie-expander-bus node 0", "2 pcie-root-port on 1 slot 0", "3 pcie-root-port on 1 slot 1",
                "4 pcie-expander-bus node 1", "5 pcie-root-port on 4 slot 0",
                "6 pcie-expander-bus node 0", "7 pcie-root-port on 6 slot 0",
                "8 pcie-expander-bus node 1", "9 pcie-root-port on 8 slot 0",
            ],
            Controllers(p));
        Assert.Equal("<controller type='pci' index='1' model='pcie-expander-bus'>\n  <target>\n    <node>0</node>\n  </target>\n</controller>", p.Controllers[1].ToXml());
        Assert.Equal("<controller type='pci' index='3' model='pcie-root-port'>\n  <address type='pci' domain='0x0000' bus='0x01' slot='0x01' function='0x0'/>\n</controller>", p.Controllers[3].ToXml());
        Assert.Equal("<controller type='pci' index='0' model='pcie-root'/>", p.Controllers[0].ToXml());
    }

    [Fact]
    public void Pinned_nodes_are_preferred_for_id_requests()
    {
        var p = PciPlacer.Place(NumaHost(), Sections("PCI = [ CLASS = \"0302\" ]\nPCI = [ CLASS = \"0302\" ]\nPCI = [ CLASS = \"0302\" ]\nPCI = [ CLASS = \"0302\" ]"), new PciPlacementOptions { Machine = "q35", NumaNodes = [1] });
        Assert.Equal(["0 81:00.0 0x0000 - - 0 - 2 1", "1 82:00.0 0x0000 - - 0 - 3 1", "2 83:00.0 0x0000 - - 0 - 4 1", "3 01:00.0 0x0000 - - 0 - 5 1"], Rows(p));
        Assert.Equal(["0 pcie-root", "1 pcie-expander-bus node 1", "2 pcie-root-port on 1 slot 0", "3 pcie-root-port on 1 slot 1", "4 pcie-root-port on 1 slot 2", "5 pcie-root-port on 1 slot 3"], Controllers(p));

        // On pc the pinning only chooses the devices; the layout stays flat.
        Assert.Equal(["0 81:00.0 0x0000 0x01 0x01 0 01:01.0 - -"], Rows(PciPlacer.Place(NumaHost(), Sections("PCI = [ CLASS = \"0302\" ]"), new PciPlacementOptions { NumaNodes = [1] })));
    }

    [Fact]
    public void A_ninth_shared_device_on_a_node_finds_no_root_port_and_a_dedicated_one_does()
    {
        var nine = string.Concat(Enumerable.Range(0, 9).Select(_ => "PCI = [ CLASS = \"0302\" ]\n"));
        var p = PciPlacer.Place(NumaHost(), Sections(nine), new PciPlacementOptions { Machine = "q35", NumaNodes = [0] });
        Assert.False(p.CanHost);
        Assert.Equal(8, p.FailedRequest);
        Assert.Equal("Unavailable PCI device.", p.Message);
        Assert.Equal("PCI section 9 (PCI = [ CLASS = \"0302\" ]): no free root port: the pcie-expander-bus of NUMA node 0 has 8 root ports, all taken by earlier PCI sections.", p.Reason);
        Assert.Empty(p.Assignments);
        Assert.Empty(p.Controllers);

        var eightAndOne = string.Concat(Enumerable.Range(0, 8).Select(_ => "PCI = [ CLASS = \"0302\" ]\n")) + "PCI = [ CLASS = \"0302\", ROOT = \"dedicated\" ]\n";
        var ok = PciPlacer.Place(NumaHost(), Sections(eightAndOne), new PciPlacementOptions { Machine = "q35", NumaNodes = [0] });
        Assert.Equal("8 09:00.0 0x0000 - - 0 - 11 0", Rows(ok)[8]);
        Assert.Equal(["10 pcie-expander-bus node 0", "11 pcie-root-port on 10 slot 0"], Controllers(ok)[10..]);

        // Without pinning there are no expanders and nothing limits the root ports to 8.
        Assert.True(PciPlacer.Place(NumaHost(), Sections(nine), new PciPlacementOptions { Machine = "q35" }).CanHost);
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
