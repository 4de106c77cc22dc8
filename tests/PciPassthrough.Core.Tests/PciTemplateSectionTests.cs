using PciPassthrough.OpenNebula.Templates;

namespace PciPassthrough.Core.Tests;

public class PciTemplateSectionTests
{
    // Create: New-PciTemplateSection's path (OpenNebula's checks, the module's own, canonical values).
    private static PciTemplateSection Section(params (string Name, string? Value)[] attributes) =>
        PciTemplateSection.Create(attributes.Select(a => new KeyValuePair<string, string?>(a.Name, a.Value)));

    // FromAttributes: the reader's path (OpenNebula's checks only, values and order kept).
    private static PciTemplateSection AsOpenNebula(params (string Name, string? Value)[] attributes) =>
        PciTemplateSection.FromAttributes(attributes.Select(a => new KeyValuePair<string, string?>(a.Name, a.Value)));

    private static PciPassthroughException Refused(params (string Name, string? Value)[] attributes) =>
        Assert.Throws<PciPassthroughException>(() => Section(attributes));

    [Fact]
    public void Sections_render_as_opennebula_template_text()
    {
        Assert.Equal("PCI = [ VENDOR = \"8086\", DEVICE = \"0a0c\", CLASS = \"0403\" ]", Section(("VENDOR", "8086"), ("DEVICE", "0A0C"), ("CLASS", "0403")).ToString());
        Assert.Equal("PCI = [ CLASS = \"0604\" ]", Section(("CLASS", "604")).ToString());
        Assert.Equal("PCI = [ VENDOR = \"10de\" ]", Section(("vendor", "10DE")).ToString());
        Assert.Equal("PCI = [ SHORT_ADDRESS = \"00:03.0\" ]", Section(("SHORT_ADDRESS", "00:03.0")).ToString());
        Assert.Equal("PCI = [ SHORT_ADDRESS = \"04:00.0\" ]", Section(("SHORT_ADDRESS", "0000:04:00.0")).ToString());
        Assert.Equal("PCI = [ SHORT_ADDRESS = \"0001:00:00.0\" ]", Section(("SHORT_ADDRESS", "0001:00:00.0")).ToString());
        Assert.Equal(
            "PCI = [ TYPE = \"NIC\", CLASS = \"0200\", DEVICE = \"10d3\", VENDOR = \"8086\", NETWORK = \"passthrough\", NETWORK_UNAME = \"oneadmin\", TRUST = \"YES\", SPOOFCHK = \"NO\", MAC = \"02:00:c0:a8:01:05\", VLAN_ID = \"42\", IP = \"192.168.1.5\", IPV6 = \"2001:db8::5\" ]",
            Section(("TYPE", "nic"), ("CLASS", "0200"), ("DEVICE", "10d3"), ("VENDOR", "8086"), ("NETWORK", "passthrough"), ("NETWORK_UNAME", "oneadmin"), ("TRUST", "yes"), ("SPOOFCHK", "no"), ("MAC", "02:00:C0:A8:01:05"), ("VLAN_ID", "42"), ("IP", "192.168.1.5"), ("IP6", "2001:db8::5")).ToString());
    }

    [Fact]
    public void Several_sections_render_in_order_one_per_line()
    {
        var text = PciTemplateSection.Render([Section(("CLASS", "0300")), Section(("SHORT_ADDRESS", "02:10.0"))]);
        Assert.Equal("PCI = [ CLASS = \"0300\" ]\nPCI = [ SHORT_ADDRESS = \"02:10.0\" ]\n", text);
    }

    [Theory]
    [InlineData("VENDOR", "10dex", "Wrong Hex value for PCI attribute VENDOR")]
    [InlineData("DEVICE", "", "Wrong Hex value for PCI attribute DEVICE")]
    [InlineData("CLASS", "12345", "Wrong Hex value for PCI attribute CLASS")]
    [InlineData("CLASS", "0x03", "Wrong Hex value for PCI attribute CLASS")]
    public void Bad_hex_gets_opennebulas_message(string name, string value, string message)
    {
        var e = Refused((name, value));
        Assert.Equal(ErrorIds.InvalidTemplateSection, e.ErrorId);
        Assert.Equal(message, e.Message);
        Assert.NotNull(e.RecommendedAction);
    }

    [Fact]
    public void Opennebulas_combination_rules_have_its_messages()
    {
        Assert.Equal("SHORT_ADDRESS, DEVICE, VENDOR or CLASS must be defined for PCI.", Refused().Message);
        Assert.Equal("SHORT_ADDRESS, DEVICE, VENDOR or CLASS must be defined for PCI.", Refused(("NETWORK", "n"), ("TYPE", "NIC")).Message);
        Assert.Equal("SHORT_ADDRESS cannot be set with DEVICE, VENDOR or CLASS", Refused(("SHORT_ADDRESS", "04:00.0"), ("VENDOR", "10de")).Message);
        Assert.Equal("SHORT_ADDRESS cannot be set with DEVICE, VENDOR or CLASS", Refused(("SHORT_ADDRESS", "04:00.0"), ("CLASS", "0300")).Message);
    }

    [Theory]
    [InlineData("SHORT_ADDRESS", "4:0.0", "SHORT_ADDRESS '4:0.0' is not a PCI slot.")]
    [InlineData("SHORT_ADDRESS", "04:00.8", "SHORT_ADDRESS '04:00.8' is not a PCI slot.")]
    [InlineData("TYPE", "GPU", "TYPE 'GPU' is not a PCI section type.")]
    [InlineData("ADDRESS", "0000:04:00:0", "ADDRESS is set by OpenNebula when it allocates the device; a template may not set it.")]
    [InlineData("NUMA_NODE", "0", "NUMA_NODE is set by OpenNebula when it allocates the device; a template may not set it.")]
    [InlineData("COLOR", "blue", "Unknown PCI attribute COLOR.")]
    [InlineData("MAC", "02:00:c0:a8:01", "MAC '02:00:c0:a8:01' is not a MAC address.")]
    [InlineData("VLAN_ID", "4096", "VLAN_ID '4096' is not a VLAN id.")]
    [InlineData("VLAN_ID", "-1", "VLAN_ID '-1' is not a VLAN id.")]
    [InlineData("TRUST", "maybe", "TRUST 'maybe' is neither YES nor NO.")]
    [InlineData("IP", "192.168.1.256", "IP '192.168.1.256' is not an IPv4 address.")]
    [InlineData("IP", "10.1", "IP '10.1' is not an IPv4 address.")]
    [InlineData("IPV6", "10.0.0.1", "IPV6 '10.0.0.1' is not an IPv6 address.")]
    [InlineData("NETWORK", "a\"b", "The value of NETWORK holds a quote, a backslash, a control character or more than 1024 characters.")]
    public void Bad_values_are_refused_with_what_is_wrong(string name, string value, string message)
    {
        (string, string?)[] attributes = name is "SHORT_ADDRESS" ? [(name, value)] : [("NETWORK", "n"), ("TYPE", "NIC"), ("CLASS", "0200"), (name, value)];
        if (name == "TYPE")
        {
            attributes = [("CLASS", "0300"), (name, value)];
        }

        if (name == "NETWORK")
        {
            attributes = [("TYPE", "NIC"), ("CLASS", "0200"), (name, value)];
        }

        var e = Refused(attributes);
        Assert.Equal(ErrorIds.InvalidTemplateSection, e.ErrorId);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Nic_attributes_need_a_nic_and_a_nic_needs_a_network()
    {
        Assert.Equal("MAC is a NIC attribute, but this PCI section is not a NIC (TYPE = \"NIC\").", Refused(("CLASS", "0200"), ("MAC", "02:00:00:00:00:01")).Message);
        Assert.Equal("NETWORK is a NIC attribute, but this PCI section is not a NIC (TYPE = \"NIC\").", Refused(("CLASS", "0200"), ("NETWORK", "n")).Message);
        Assert.Equal("A PCI section with TYPE = \"NIC\" needs NETWORK.", Refused(("CLASS", "0200"), ("TYPE", "NIC")).Message);
        Assert.Equal("VENDOR is given twice.", Refused(("VENDOR", "10de"), ("vendor", "10de")).Message);
    }

    // check_pci_attributes (VirtualMachineParser.cc) reads VENDOR/DEVICE/CLASS with istringstream >> hex
    // into an unsigned int and wants the whole text consumed: an optional 0x, any case, leading blanks
    // skipped, trailing text refused. An empty value is vector_value's "absent".
    [Theory]
    [InlineData("VENDOR", "10de", "10de")]
    [InlineData("VENDOR", "10DE", "10de")]
    [InlineData("VENDOR", "0x10de", "10de")]
    [InlineData("DEVICE", "0X1EB8", "1eb8")]
    [InlineData("CLASS", "300", "0300")]
    [InlineData("CLASS", " 0300", "0300")]
    [InlineData("CLASS", "12345", "12345")]
    public void Opennebula_reads_hex_as_istream_does(string name, string value, string id)
    {
        var s = AsOpenNebula((name, value));
        Assert.Equal(id, name switch { "VENDOR" => s.VendorId, "DEVICE" => s.DeviceId, _ => s.Class });
        Assert.Equal($"PCI = [ {name} = \"{value}\" ]", s.ToString());
    }

    [Theory]
    [InlineData("PCI = [ VENDOR = \"10dg\" ]", "Wrong Hex value for PCI attribute VENDOR")]
    [InlineData("PCI = [ VENDOR = \"10de\", DEVICE = \"1eb8 \" ]", "Wrong Hex value for PCI attribute DEVICE")]
    [InlineData("PCI = [ CLASS = \"0x\" ]", "Wrong Hex value for PCI attribute CLASS")]
    [InlineData("PCI = [ CLASS = \"100000000\" ]", "Wrong Hex value for PCI attribute CLASS")]
    [InlineData("PCI = [ VENDOR = \"-1\" ]", "Wrong Hex value for PCI attribute VENDOR")]
    [InlineData("PCI = [ DEVICE = \"\" ]", "SHORT_ADDRESS, DEVICE, VENDOR or CLASS must be defined for PCI.")]
    [InlineData("PCI = [ TYPE = \"NIC\", NETWORK = \"sriov\" ]", "SHORT_ADDRESS, DEVICE, VENDOR or CLASS must be defined for PCI.")]
    [InlineData("PCI = [ ADDRESS = \"0000:04:00:0\" ]", "SHORT_ADDRESS, DEVICE, VENDOR or CLASS must be defined for PCI.")]
    [InlineData("PCI = [ SHORT_ADDRESS = \"04:00.0\", CLASS = \"0300\" ]", "SHORT_ADDRESS cannot be set with DEVICE, VENDOR or CLASS")]
    [InlineData("PCI = [ CLASS = \"0300\", ROOT = \"exclusive\" ]", "Unknown PCI root mode, has to be SHARED or DEDICATED")]
    [InlineData("PCI = [ CLASS = \"0300\", ACPI_NODES = \"0,a\" ]", "Invalid nodeset specification in ACPI_NODES")]
    [InlineData("PCI = [ CLASS = \"0300\", ACPI_NODES = \"3-1\" ]", "Invalid nodeset specification in ACPI_NODES")]
    [InlineData("PCI = [ CLASS = \"0300\", ACPI_NODES = \"0,\" ]", "Invalid nodeset specification in ACPI_NODES")]
    [InlineData("PCI = [ CLASS = \"0300\", VM_BUS = \"bus6\" ]", "Wrong VM_BUS in PCI attribute")]
    public void The_reader_applies_exactly_opennebulas_checks_with_its_messages(string text, string message)
    {
        var e = Assert.Throws<PciPassthroughException>(() => PciTemplateReader.Read("NAME = vm\n" + text));
        Assert.Equal(ErrorIds.InvalidTemplateSection, e.ErrorId);
        Assert.Equal("PCI section at line 2, column 1: " + message, e.Message);
        Assert.NotNull(e.RecommendedAction);
    }

    [Theory]
    [InlineData("PCI = [ CLASS = \"0300\", ROOT = \"dedicated\" ]")]
    [InlineData("PCI = [ CLASS = \"0300\", ROOT = \"SHARED\" ]")]
    [InlineData("PCI = [ CLASS = \"0300\", ACPI_NODES = \"0,1-3\" ]")]
    [InlineData("PCI = [ CLASS = \"0300\", ACPI_NODES = \"2\" ]")]
    [InlineData("PCI = [ DEVICE = \"165f\", VM_BUS = \"0x06\" ]")]
    [InlineData("PCI = [ DEVICE = \"165f\", VM_BUS = \"6\" ]")]
    [InlineData("PCI = [ SHORT_ADDRESS = \"41:00.0\", IOMMUFD = \"yes\", PROFILE = \"nvidia-558\", VM_BUS_INDEX = \"3\" ]")]
    [InlineData("PCI = [ TYPE = \"nic\", NETWORK = \"sriov\", CLASS = \"0200\", MAC = \"not checked\", VLAN_ID = \"x\", IP = \"10.1\", SPEED = \"fast\" ]")]
    [InlineData("PCI = [ SHORT_ADDRESS = \"4:0.0\" ]")]
    [InlineData("PCI = [ CLASS = \"0300\", ROOT = \"\", ACPI_NODES = \"\", VM_BUS = \"\", DEVICE = \"\" ]")]
    [InlineData("PCI = [ CLASS = \"0300\", NOTE = \"a \\\"quoted\\\" \\\\ value\" ]")]
    public void What_opennebula_accepts_reads_and_writes_back_unchanged_in_order(string text)
    {
        var s = Assert.Single(PciTemplateReader.Read(text));
        Assert.Equal(text, s.ToString());
        Assert.Equal(text, Assert.Single(PciTemplateReader.Read(s.ToString())).ToString());
    }

    // set_pci_address(clean) removes DOMAIN BUS SLOT FUNCTION ADDRESS PREV_ADDRESS NUMA_NODE UUID; the
    // allocation fills MDEV_MODE and overwrites VM_DOMAIN VM_SLOT VM_FUNCTION VM_ADDRESS and PCI_ID. VM_BUS
    // stays: a user's VM_BUS overrides PCI_PASSTHROUGH_BUS.
    [Fact]
    public void Allocation_attributes_are_removed_and_vm_bus_stays()
    {
        var s = Assert.Single(PciTemplateReader.Read("""
            PCI = [ ADDRESS = "0000:04:00:0", VENDOR = "10de", DOMAIN = "0000", BUS = "04", SLOT = "00", FUNCTION = "0",
                    SHORT_ADDRESS = "", PREV_ADDRESS = "0000:05:00:0", NUMA_NODE = "1", UUID = "e4042b96-e63d-56cf-bcc8-4e6eecccc12e",
                    MDEV_MODE = "nvidia", VM_DOMAIN = "0x0000", VM_BUS = "0x06", VM_SLOT = "0x02", VM_FUNCTION = "0",
                    VM_ADDRESS = "06:02.0", PCI_ID = "1", DEVICE = "1eb8" ]
            """));
        Assert.Equal("PCI = [ VENDOR = \"10de\", SHORT_ADDRESS = \"\", VM_BUS = \"0x06\", DEVICE = \"1eb8\" ]", s.ToString());
        Assert.Equal(["ADDRESS", "DOMAIN", "BUS", "SLOT", "FUNCTION", "PREV_ADDRESS", "NUMA_NODE", "UUID", "MDEV_MODE", "VM_DOMAIN", "VM_SLOT", "VM_FUNCTION", "VM_ADDRESS", "PCI_ID"], s.RemovedAttributes);
        Assert.Equal("0x06", s.VmBus);
        Assert.False(s.IsAddressRequest);
    }

    [Fact]
    public void The_module_checks_stay_on_new_sections_only()
    {
        Assert.Equal("Unknown PCI attribute SPEED.", Refused(("CLASS", "0300"), ("SPEED", "fast")).Message);
        Assert.Equal("ADDRESS is set by OpenNebula when it allocates the device; a template may not set it.", Refused(("CLASS", "0300"), ("ADDRESS", "0000:04:00:0")).Message);
        Assert.Equal("PCI = [ CLASS = \"0300\", SPEED = \"fast\" ]", AsOpenNebula(("CLASS", "0300"), ("SPEED", "fast")).ToString());
        Assert.Equal("PCI = [ CLASS = \"0300\", ROOT = \"dedicated\", VM_BUS = \"0x06\", IOMMUFD = \"yes\" ]", Section(("CLASS", "300"), ("ROOT", "dedicated"), ("VM_BUS", "0x06"), ("IOMMUFD", "yes")).ToString());
        Assert.Equal("Wrong VM_BUS in PCI attribute", Refused(("CLASS", "0300"), ("VM_BUS", "x")).Message);
    }

    // check_pci_attributes (VirtualMachineParser.cc): ROOT lower-cased then shared|dedicated; ACPI_NODES
    // against ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$; VM_BUS read with istringstream >> hex, all consumed.
    [Theory]
    [InlineData("ROOT", "DEDICATED", "ROOT = \"dedicated\"", null)]
    [InlineData("ROOT", "Shared", "ROOT = \"shared\"", null)]
    [InlineData("ROOT", "exclusive", null, "Unknown PCI root mode, has to be SHARED or DEDICATED")]
    [InlineData("ACPI_NODES", "0,2-3", "ACPI_NODES = \"0,2-3\"", null)]
    [InlineData("ACPI_NODES", "0, 1", null, "Invalid nodeset specification in ACPI_NODES")]
    [InlineData("ACPI_NODES", "1-", null, "Invalid nodeset specification in ACPI_NODES")]
    [InlineData("VM_BUS", "0x06", "VM_BUS = \"0x06\"", null)]
    [InlineData("VM_BUS", "1A", "VM_BUS = \"1A\"", null)]
    [InlineData("VM_BUS", "0x6g", null, "Wrong VM_BUS in PCI attribute")]
    [InlineData("IOMMUFD", "YES", "IOMMUFD = \"YES\"", null)]
    [InlineData("PROFILE", "nvidia-559", "PROFILE = \"nvidia-559\"", null)]
    public void New_sections_take_the_guest_attributes_with_opennebulas_checks(string name, string value, string? written, string? message)
    {
        if (message is null)
        {
            Assert.Equal($"PCI = [ CLASS = \"0302\", {written} ]", Section(("CLASS", "0302"), (name, value)).ToString());
        }
        else
        {
            var e = Refused(("CLASS", "0302"), (name, value));
            Assert.Equal(message, e.Message);
            Assert.Equal(ErrorIds.InvalidTemplateSection, e.ErrorId);
        }
    }
}
