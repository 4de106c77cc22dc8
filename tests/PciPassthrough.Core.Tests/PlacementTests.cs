using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PciPassthrough.OpenNebula.Placement;
using PciPassthrough.OpenNebula.Templates;

namespace PciPassthrough.Core.Tests;

public class PlacementTests
{
    private const string Pool = OneHostXml.Pool;

    private static PciTemplateSection S(string text) => Assert.Single(PciTemplateReader.Read(text));

    private static IReadOnlyList<PciHostInventory> Hosts() => HostInventoryXml.Read(Pool);

    private static string Table(IEnumerable<PciPlacement> placements) => string.Join("\n", placements.Select(p =>
        p.CanHost ? $"{p.HostName}: " + string.Join(" ", p.Assignments.Select(a => a.Device.ShortAddress)) : $"{p.HostName}: {p.Message} #{p.FailedRequest}"));

    [Fact]
    public void Onehost_xml_reads_into_hosts_with_devices_in_address_order()
    {
        var hosts = Hosts();
        Assert.Equal(["hv1", "hv2", "empty"], hosts.Select(h => h.HostName));
        Assert.Equal([0, 3, 4], hosts.Select(h => h.HostId));
        Assert.Equal(["0000:01:00.0", "0000:02:10.0", "0000:02:10.4", "0000:41:00.0"], hosts[0].Devices.Select(d => d.PciAddress));
        Assert.Equal([-1, 12, -1, -1], hosts[0].Devices.Select(d => d.VmId));
        Assert.Equal([0, null, null, 1], hosts[0].Devices.Select(d => d.NumaNode));
        Assert.Equal("0001:00:00.0", hosts[1].Devices[1].ShortAddress);
        var single = Assert.Single(HostInventoryXml.Read("<HOST><ID>7</ID><NAME>solo</NAME></HOST>"));
        Assert.Empty(single.Devices);
    }

    [Theory]
    [InlineData("[ CLASS = \"0302\" ]", "hv1: 01:00.0\nhv2: Unavailable PCI device. #0\nempty: Unavailable PCI device. #0")]
    [InlineData("[ VENDOR = \"10DE\" ]\n[ VENDOR = \"10de\", DEVICE = \"1eb8\" ]", "hv1: 01:00.0 41:00.0\nhv2: Unavailable PCI device. #0\nempty: Unavailable PCI device. #0")]
    [InlineData("[ VENDOR = \"10de\" ]\n[ VENDOR = \"10de\" ]\n[ VENDOR = \"10de\" ]", "hv1: Unavailable PCI device. #2\nhv2: Unavailable PCI device. #0\nempty: Unavailable PCI device. #0")]
    [InlineData("[ VENDOR = \"8086\" ]", "hv1: 02:10.4\nhv2: 02:10.0\nempty: Unavailable PCI device. #0")]
    [InlineData("[ SHORT_ADDRESS = \"02:10.0\" ]", "hv1: Unavailable PCI device. #0\nhv2: 02:10.0\nempty: Unavailable PCI device. #0")]
    [InlineData("[ CLASS = \"0200\" ]\n[ SHORT_ADDRESS = \"02:10.4\" ]", "hv1: Unavailable PCI device. #0\nhv2: Unavailable PCI device. #1\nempty: Unavailable PCI device. #1")]
    [InlineData("[ DEVICE = \"1520\" ]\n[ SHORT_ADDRESS = \"02:10.0\" ]", "hv1: Unavailable PCI device. #1\nhv2: Unavailable PCI device. #0\nempty: Unavailable PCI device. #1")]
    [InlineData("[ SHORT_ADDRESS = \"0001:00:00.0\" ]\n[ VENDOR = \"8086\", CLASS = \"200\" ]", "hv1: Unavailable PCI device. #0\nhv2: 0001:00:00.0 02:10.0\nempty: Unavailable PCI device. #0")]
    public void Placement_follows_opennebulas_rules(string requests, string table)
    {
        var sections = PciTemplateReader.Read(string.Concat(requests.Split('\n').Select(r => "PCI = " + r + "\n")));
        Assert.Equal(table, Table(Hosts().Select(h => PciPlacer.Place(h, sections))));
    }

    [Fact]
    public void A_preferred_numa_node_is_tried_first_and_is_not_required()
    {
        var hv1 = Hosts()[0];
        Assert.Equal("41:00.0", PciPlacer.Place(hv1, [S("PCI = [ CLASS = \"0302\" ]")], preferNumaNode: 1).Assignments[0].Device.ShortAddress);
        Assert.Equal("01:00.0", PciPlacer.Place(hv1, [S("PCI = [ CLASS = \"0302\" ]")], preferNumaNode: 0).Assignments[0].Device.ShortAddress);
        Assert.Equal("01:00.0", PciPlacer.Place(hv1, [S("PCI = [ CLASS = \"0302\" ]")], preferNumaNode: 5).Assignments[0].Device.ShortAddress);
    }

    [Fact]
    public void A_failure_says_which_request_and_why()
    {
        var hosts = Hosts();
        var used = PciPlacer.Place(hosts[0], [S("PCI = [ SHORT_ADDRESS = \"02:10.0\" ]")]);
        Assert.False(used.CanHost);
        Assert.Equal("Unavailable PCI device.", used.Message);
        Assert.Equal("PCI section 1 (PCI = [ SHORT_ADDRESS = \"02:10.0\" ]): 02:10.0 is in use by VM 12.", used.Reason);
        Assert.Empty(used.Assignments);
        Assert.Equal("PCI section 1 (PCI = [ SHORT_ADDRESS = \"09:00.0\" ]): host hv1 has no device 09:00.0.", PciPlacer.Place(hosts[0], [S("PCI = [ SHORT_ADDRESS = \"09:00.0\" ]")]).Reason);
        Assert.Equal("PCI section 2 (PCI = [ SHORT_ADDRESS = \"02:10.4\" ]): 02:10.4 is already requested by an earlier PCI section.", PciPlacer.Place(hosts[0], [S("PCI = [ SHORT_ADDRESS = \"02:10.4\" ]"), S("PCI = [ SHORT_ADDRESS = \"02:10.4\" ]")]).Reason);
        Assert.Equal("PCI section 1 (PCI = [ CLASS = \"0c03\" ]): no device of host hv1 matches PCI = [ CLASS = \"0c03\" ].", PciPlacer.Place(hosts[0], [S("PCI = [ CLASS = \"0c03\" ]")]).Reason);
        Assert.Equal("PCI section 2 (PCI = [ DEVICE = \"1520\" ]): all 2 matching devices of host hv1 are in use or taken by earlier PCI sections.", PciPlacer.Place(hosts[0], [S("PCI = [ DEVICE = \"1520\" ]"), S("PCI = [ DEVICE = \"1520\" ]")]).Reason);
    }

    [Theory]
    [InlineData("<HOST_POOL><HOST><NAME>a</NAME></HOST>", "XML, line 1, position 39: Unexpected end of file")]
    [InlineData("<HOSTS/>", "XML: the root element is <HOSTS>, not <HOST> or <HOST_POOL>.")]
    [InlineData("<!DOCTYPE x [<!ENTITY e \"x\">]><HOST/>", "XML: For security reasons DTD is prohibited")]
    [InlineData("<HOST><ID>1</ID></HOST>", "XML, line 1: a <HOST> has no <NAME>.")]
    [InlineData("<HOST><ID>x</ID><NAME>a</NAME></HOST>", "XML, line 1: host a has ID 'x', not a number.")]
    [InlineData("<HOST><NAME>a</NAME><HOST_SHARE><PCI_DEVICES><PCI><ADDRESS>0000:04:00:9</ADDRESS><VENDOR>10de</VENDOR><DEVICE>1</DEVICE><CLASS>0300</CLASS></PCI></PCI_DEVICES></HOST_SHARE></HOST>", "XML, line 1, host a: ADDRESS '0000:04:00:9' is not a PCI address.")]
    [InlineData("<HOST><NAME>a</NAME><HOST_SHARE><PCI_DEVICES><PCI><ADDRESS>0000:04:00:0</ADDRESS><DEVICE>1</DEVICE><CLASS>0300</CLASS></PCI></PCI_DEVICES></HOST_SHARE></HOST>", "XML, line 1, host a: VENDOR '' is not a 4-digit hexadecimal id.")]
    [InlineData("<HOST><NAME>a</NAME><HOST_SHARE><PCI_DEVICES><PCI><ADDRESS>0000:04:00:0</ADDRESS><VENDOR>1</VENDOR><DEVICE>1</DEVICE><CLASS>0300</CLASS><VMID>none</VMID></PCI></PCI_DEVICES></HOST_SHARE></HOST>", "XML, line 1, host a: VMID 'none' is not a number.")]
    [InlineData("<HOST><NAME>a</NAME><HOST_SHARE><PCI_DEVICES><PCI><ADDRESS>0000:04:00:0</ADDRESS><VENDOR>1</VENDOR><DEVICE>1</DEVICE><CLASS>1</CLASS></PCI><PCI><ADDRESS>0000:04:00.0</ADDRESS><VENDOR>1</VENDOR><DEVICE>1</DEVICE><CLASS>1</CLASS></PCI></PCI_DEVICES></HOST_SHARE></HOST>", "XML, line 1: host a: the device 0000:04:00.0 is listed twice.")]
    public void Malformed_xml_is_refused_with_where(string xml, string messageStart)
    {
        var e = Assert.Throws<PciPassthroughException>(() => HostInventoryXml.Read(xml));
        Assert.Equal(ErrorIds.InvalidHostInventory, e.ErrorId);
        Assert.StartsWith(messageStart, e.Message);
        Assert.NotNull(e.RecommendedAction);
    }

    [Fact]
    public void Hostdev_xml_is_what_the_kvm_driver_writes()
    {
        Assert.Equal("<hostdev mode='subsystem' type='pci' managed='yes'>\n  <source>\n    <address domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>\n  </source>\n</hostdev>", HostdevXml.ForPci(PciAddress.Parse("0000:04:00.0")));
        Assert.Equal("<hostdev mode='subsystem' type='pci' managed='yes'>\n  <source>\n    <address domain='0x0001' bus='0xaf' slot='0x1f' function='0x7'/>\n  </source>\n</hostdev>", HostdevXml.ForPci(PciAddress.Parse("0001:AF:1f.7")));
        Assert.Equal("<hostdev mode='subsystem' type='mdev' model='vfio-pci'>\n  <source>\n    <address uuid='e4042b96-e63d-56cf-bcc8-4e6eecccc12e'/>\n  </source>\n</hostdev>", HostdevXml.ForMdev("E4042B96-E63D-56CF-BCC8-4E6EECCCC12E"));
        Assert.Equal(ErrorIds.InvalidUuid, Assert.Throws<PciPassthroughException>(() => HostdevXml.ForMdev("nope")).ErrorId);
    }

    // Properties: for any host and any requests, no device goes to two requests, only free devices are
    // given, each assigned device matches its request, and a failure names a request.
    private static readonly Gen<PciHostDevice> Device =
        from bus in Gen.Choose(0, 6)
        from fn in Gen.Choose(0, 3)
        from vendor in Gen.Elements("10de", "8086")
        from device in Gen.Elements("1eb8", "1520", "0001")
        from cls in Gen.Elements("0300", "0200")
        from vm in Gen.Elements(-1, -1, -1, 5)
        from numa in Gen.Elements<int?>(null, 0, 1)
        select PciHostDevice.Create($"0000:{bus:x2}:00.{fn}", vendor, device, cls, vm, numa, null, "gen");

    private static readonly Gen<PciTemplateSection> Request = Gen.OneOf(
        from bus in Gen.Choose(0, 6)
        from fn in Gen.Choose(0, 3)
        select PciTemplateSection.FromAttributes([new("SHORT_ADDRESS", $"{bus:x2}:00.{fn}")]),
        from vendor in Gen.Elements<string?>(null, "10de", "8086")
        from device in Gen.Elements<string?>(null, "1eb8", "1520")
        from cls in Gen.Elements<string?>(vendor is null && device is null ? "0300" : null, "0300", "200")
        select PciTemplateSection.FromAttributes([new("VENDOR", vendor), new("DEVICE", device), new("CLASS", cls)]));

    private static readonly Gen<(PciHostInventory Host, List<PciTemplateSection> Requests, int? Numa)> Case =
        from devices in Gen.ListOf(Device)
        from requests in Gen.ListOf(Request)
        from numa in Gen.Elements<int?>(null, 0, 1)
        select (new PciHostInventory("h", 1, devices.DistinctBy(d => d.PciAddress)), requests.ToList(), numa);

    [Property(MaxTest = 500)]
    public Property Placement_never_gives_one_device_to_two_requests() =>
        Prop.ForAll(Case.ToArbitrary(), c =>
        {
            var p = PciPlacer.Place(c.Host, c.Requests, c.Numa);
            if (p.CanHost)
            {
                Assert.Equal(c.Requests.Count, p.Assignments.Count);
                Assert.Equal(p.Assignments.Count, p.Assignments.Select(a => a.Device.PciAddress).Distinct().Count());
                Assert.All(p.Assignments, a => Assert.True(a.Device.IsFree && PciPlacer.Matches(a.Section, a.Device)));
                Assert.Equal(Enumerable.Range(0, c.Requests.Count), p.Assignments.Select(a => a.Request));
            }
            else
            {
                Assert.InRange(p.FailedRequest!.Value, 0, c.Requests.Count - 1);
                Assert.Same(c.Requests[p.FailedRequest.Value], p.FailedSection);
                Assert.Empty(p.Assignments);
            }
        });
}
