using PciPassthrough.OpenNebula.Placement;
using PciPassthrough.OpenNebula.Templates;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// What LibVirtDriverKVM.cc (OpenNebula/one master, commit f847cf2e) writes for a VM's PCI devices, written
/// out by hand from its source: a device with a UUID and MDEV_MODE legacy (or none) gets the mdev form;
/// otherwise the PCI form, managed='no' for MDEV_MODE nvidia (even with a UUID), else managed='yes', with the
/// source address; then &lt;driver iommufd='yes'/&gt; for IOMMUFD = YES (both forms), &lt;acpi nodeset/&gt;
/// for ACPI_NODES, and last the guest address: with VM_BUS_INDEX
/// <c>domain='0x0000' slot='0x00' function='0x0'  bus=INDEX</c>, else VM_DOMAIN/VM_BUS/VM_SLOT/VM_FUNCTION as
/// set_pci_address stored them (q35 flat: slot "0000").
/// </summary>
public class HostdevXmlTests
{
    private const string Host = """
        <HOST><ID>5</ID><NAME>gpu</NAME><HOST_SHARE><PCI_DEVICES>
          <PCI><ADDRESS>0000:04:00:0</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2330</DEVICE><CLASS>0302</CLASS><NUMA_NODE>0</NUMA_NODE><VMID>-1</VMID></PCI>
          <PCI><ADDRESS>0000:41:00:4</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2237</DEVICE><CLASS>0302</CLASS><UUID>E4042B96-E63D-56CF-BCC8-4E6EECCCC12E</UUID><MDEV_MODE>legacy</MDEV_MODE><VMID>-1</VMID></PCI>
          <PCI><ADDRESS>0000:41:00:5</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2238</DEVICE><CLASS>0302</CLASS><UUID>5bbb7bbc-4d62-5e7d-8a3e-1c8d0a3b7f11</UUID><MDEV_MODE>nvidia</MDEV_MODE><VMID>-1</VMID></PCI>
          <PCI><ADDRESS>0000:81:00:1</ADDRESS><VENDOR>15b3</VENDOR><DEVICE>101e</DEVICE><CLASS>0200</CLASS><MDEV_MODE>nvidia</MDEV_MODE><VMID>-1</VMID></PCI>
        </PCI_DEVICES></HOST_SHARE></HOST>
        """;

    private const string Vm = """
        PCI = [ DEVICE = "2330", IOMMUFD = "yes", ACPI_NODES = "0,2-3" ]
        PCI = [ DEVICE = "2237", ACPI_NODES = "1" ]
        PCI = [ DEVICE = "2238", VM_BUS = "0x06" ]
        PCI = [ TYPE = "NIC", NETWORK = "ib", VENDOR = "15b3", IOMMUFD = "no" ]
        """;

    private static List<string> Xml(string machine, int[]? numaNodes = null)
    {
        var p = PciPlacer.Place(Assert.Single(HostInventoryXml.Read(Host)), PciTemplateReader.Read(Vm), new PciPlacementOptions { Machine = machine, NumaNodes = numaNodes ?? [] });
        Assert.True(p.CanHost, p.Reason);
        return p.Assignments.Select(HostdevXml.ForAssignment).ToList();
    }

    [Fact]
    public void Assignments_on_pc_get_every_element_the_kvm_driver_writes()
    {
        Assert.Equal(
            [
                "<hostdev mode='subsystem' type='pci' managed='yes'>\n  <source>\n    <address domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>\n  </source>\n  <driver iommufd='yes'/>\n  <acpi nodeset='0,2-3'/>\n  <address type='pci' domain='0x0000' bus='0x01' slot='0x01' function='0'/>\n</hostdev>",
                "<hostdev mode='subsystem' type='mdev' model='vfio-pci'>\n  <source>\n    <address uuid='e4042b96-e63d-56cf-bcc8-4e6eecccc12e'/>\n  </source>\n  <acpi nodeset='1'/>\n  <address type='pci' domain='0x0000' bus='0x01' slot='0x02' function='0'/>\n</hostdev>",
                "<hostdev mode='subsystem' type='pci' managed='no'>\n  <source>\n    <address domain='0x0000' bus='0x41' slot='0x00' function='0x5'/>\n  </source>\n  <address type='pci' domain='0x0000' bus='0x06' slot='0x03' function='0'/>\n</hostdev>",
                "<hostdev mode='subsystem' type='pci' managed='no'>\n  <source>\n    <address domain='0x0000' bus='0x81' slot='0x00' function='0x1'/>\n  </source>\n  <address type='pci' domain='0x0000' bus='0x01' slot='0x04' function='0'/>\n</hostdev>",
            ],
            Xml("pc"));
    }

    [Fact]
    public void Assignments_on_q35_sit_on_bus_pci_id_plus_one_slot_zero()
    {
        Assert.Equal(
            [
                "<hostdev mode='subsystem' type='pci' managed='yes'>\n  <source>\n    <address domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>\n  </source>\n  <driver iommufd='yes'/>\n  <acpi nodeset='0,2-3'/>\n  <address type='pci' domain='0x0000' bus='0x01' slot='0000' function='0'/>\n</hostdev>",
                "<hostdev mode='subsystem' type='mdev' model='vfio-pci'>\n  <source>\n    <address uuid='e4042b96-e63d-56cf-bcc8-4e6eecccc12e'/>\n  </source>\n  <acpi nodeset='1'/>\n  <address type='pci' domain='0x0000' bus='0x02' slot='0000' function='0'/>\n</hostdev>",
                "<hostdev mode='subsystem' type='pci' managed='no'>\n  <source>\n    <address domain='0x0000' bus='0x41' slot='0x00' function='0x5'/>\n  </source>\n  <address type='pci' domain='0x0000' bus='0x03' slot='0000' function='0'/>\n</hostdev>",
                "<hostdev mode='subsystem' type='pci' managed='no'>\n  <source>\n    <address domain='0x0000' bus='0x81' slot='0x00' function='0x1'/>\n  </source>\n  <address type='pci' domain='0x0000' bus='0x04' slot='0000' function='0'/>\n</hostdev>",
            ],
            Xml("q35"));
    }

    [Fact]
    public void A_pinned_vm_gets_the_bus_index_form()
    {
        // 04:00.0 is on NUMA node 0: VM_BUS_INDEX 4 (3 + 0 * 9 + 1); the others have no NUMA node: flat q35.
        var xml = Xml("q35", [0]);
        Assert.Equal("<hostdev mode='subsystem' type='pci' managed='yes'>\n  <source>\n    <address domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>\n  </source>\n  <driver iommufd='yes'/>\n  <acpi nodeset='0,2-3'/>\n  <address type='pci' domain='0x0000' slot='0x00' function='0x0' bus='4'/>\n</hostdev>", xml[0]);
        Assert.EndsWith("<address type='pci' domain='0x0000' bus='0x02' slot='0000' function='0'/>\n</hostdev>", xml[1]);
    }

    [Fact]
    public void A_short_address_section_gives_the_source_and_its_options_only()
    {
        var s = Assert.Single(PciTemplateReader.Read("PCI = [ SHORT_ADDRESS = \"0001:af:1f.7\", IOMMUFD = \"YES\", ACPI_NODES = \"1\" ]"));
        Assert.Equal("<hostdev mode='subsystem' type='pci' managed='yes'>\n  <source>\n    <address domain='0x0001' bus='0xaf' slot='0x1f' function='0x7'/>\n  </source>\n  <driver iommufd='yes'/>\n  <acpi nodeset='1'/>\n</hostdev>", HostdevXml.ForSection(s));
        var e = Assert.Throws<PciPassthroughException>(() => HostdevXml.ForSection(Assert.Single(PciTemplateReader.Read("PCI = [ CLASS = \"0300\" ]"))));
        Assert.Equal(ErrorIds.InvalidTemplateSection, e.ErrorId);
    }

    [Fact]
    public void A_bad_uuid_in_the_inventory_is_refused_where_it_is_read()
    {
        var e = Assert.Throws<PciPassthroughException>(() => HostInventoryXml.Read("<HOST><NAME>a</NAME><HOST_SHARE><PCI_DEVICES><PCI><ADDRESS>0000:04:00:0</ADDRESS><VENDOR>1</VENDOR><DEVICE>1</DEVICE><CLASS>1</CLASS><UUID>nope</UUID></PCI></PCI_DEVICES></HOST_SHARE></HOST>"));
        Assert.Equal(ErrorIds.InvalidHostInventory, e.ErrorId);
        Assert.EndsWith("UUID 'nope' is not a UUID.", e.Message);
    }
}

public class HostdevUuidTests
{
    [Fact]
    public void A_malformed_mdev_uuid_is_reported_as_a_bad_uuid_not_a_bad_pci_address()
    {
        var e = Assert.Throws<PciPassthroughException>(() => HostdevXml.ForMdev("0000:04:00.0"));
        Assert.Equal("InvalidMediatedDeviceUuid", e.ErrorId);
        Assert.Equal("0000:04:00.0", e.Target);
    }
}
