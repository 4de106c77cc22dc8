using PciPassthrough.OpenNebula.Templates;

namespace PciPassthrough.Core.Tests;

public class PciTemplateSectionTests
{
    private static PciTemplateSection Section(params (string Name, string? Value)[] attributes) =>
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
            "PCI = [ NETWORK = \"passthrough\", NETWORK_UNAME = \"oneadmin\", TYPE = \"NIC\", VENDOR = \"8086\", DEVICE = \"10d3\", CLASS = \"0200\", MAC = \"02:00:c0:a8:01:05\", VLAN_ID = \"42\", SPOOFCHK = \"NO\", TRUST = \"YES\", IP = \"192.168.1.5\", IPV6 = \"2001:db8::5\" ]",
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
}
