using PciPassthrough.OpenNebula.Templates;

namespace PciPassthrough.Core.Tests;

public class PciTemplateReaderTests
{
    private const string GuideTemplate = """
        NAME = "gpu-vm"   # a comment
        CPU = 1
        MEMORY=2048
        DISK = [ IMAGE = "ubuntu", IMAGE_UNAME = "oneadmin" ]
        PCI = [ VENDOR = "8086", DEVICE = "0a0c", CLASS = "0403" ]
        NIC = [ NETWORK = "public" ]
        pci = [ CLASS = "0604" ]
        PCI = [ SHORT_ADDRESS = "00:03.0" ]
        PCI = [ NETWORK = "passthrough", NETWORK_UNAME = "oneadmin", TYPE = "NIC",
                CLASS = "0200", DEVICE = "10d3", VENDOR = "8086", TRUST = "yes" ]
        """;

    [Fact]
    public void The_guides_template_reads_into_its_pci_sections_in_order()
    {
        var sections = PciTemplateReader.Read(GuideTemplate);
        Assert.Equal(
            [
                "PCI = [ VENDOR = \"8086\", DEVICE = \"0a0c\", CLASS = \"0403\" ]",
                "PCI = [ CLASS = \"0604\" ]",
                "PCI = [ SHORT_ADDRESS = \"00:03.0\" ]",
                "PCI = [ NETWORK = \"passthrough\", NETWORK_UNAME = \"oneadmin\", TYPE = \"NIC\", CLASS = \"0200\", DEVICE = \"10d3\", VENDOR = \"8086\", TRUST = \"yes\" ]",
            ],
            sections.Select(s => s.ToString()));
        var nic = sections[3];
        Assert.Equal(("8086", "10d3", "0200", "NIC", "passthrough", "oneadmin", "yes"), (nic.VendorId, nic.DeviceId, nic.Class, nic.Type, nic.Network, nic.NetworkUname, nic.Trust));
        Assert.Null(sections[0].Type);
    }

    [Fact]
    public void Unquoted_values_empty_vectors_and_no_pci_at_all_are_fine()
    {
        Assert.Equal("PCI = [ VENDOR = \"10de\" ]", Assert.Single(PciTemplateReader.Read("PCI=[VENDOR=10de]")).ToString());
        Assert.Empty(PciTemplateReader.Read("NAME = vm\nCONTEXT = [ ]\n"));
        Assert.Empty(PciTemplateReader.Read(""));
    }

    [Theory]
    [InlineData("PCI = [ VENDOR = \"10de\"", "template, line 1, column 7: '[' is never closed with ']'.")]
    [InlineData("NAME = \"vm\nPCI = [ CLASS = \"0300\" ]", "template, line 2, column 22: expected '=' after 0300 but found '\"'.")]
    [InlineData("PCI = [ CLASS = \"0300 ]", "template, line 1, column 17: the quote that opens the value of CLASS is never closed.")]
    [InlineData("PCI = [ CLASS = \"0300\" ]]", "template, line 1, column 25: expected an attribute name but found ']'.")]
    [InlineData("PCI = [ CLASS \"0300\" ]", "template, line 1, column 15: expected '=' after CLASS but found '\"'.")]
    [InlineData("PCI = \"10de\"", "template, line 1, column 1: PCI must be a vector attribute: PCI = [ NAME = \"value\", ... ].")]
    [InlineData("PCI = [ CLASS = [ ] ]", "template, line 1, column 17: expected a value for CLASS but found '['.")]
    [InlineData("NAME =", "template, line 1, column 7: expected a value for NAME but the text ends.")]
    public void Malformed_text_is_a_syntax_error_with_the_position(string text, string message)
    {
        var e = Assert.Throws<PciPassthroughException>(() => PciTemplateReader.Read(text));
        Assert.Equal(ErrorIds.TemplateSyntax, e.ErrorId);
        Assert.Equal(message, e.Message);
        Assert.NotNull(e.RecommendedAction);
    }

    [Theory]
    [InlineData("PCI = [ VENDOR = \"10dg\" ]", "PCI section at line 1, column 1: Wrong Hex value for PCI attribute VENDOR")]
    [InlineData("A = 1\n  PCI = [ SHORT_ADDRESS = \"04:00.0\", DEVICE = \"1eb8\" ]", "PCI section at line 2, column 3: SHORT_ADDRESS cannot be set with DEVICE, VENDOR or CLASS")]
    [InlineData("PCI = [ ]", "PCI section at line 1, column 1: SHORT_ADDRESS, DEVICE, VENDOR or CLASS must be defined for PCI.")]
    [InlineData("PCI = [ CLASS = \"0300\",\n  ROOT = \"any\" ]", "PCI section at line 1, column 1: Unknown PCI root mode, has to be SHARED or DEDICATED")]
    public void Invalid_sections_name_their_position(string text, string message)
    {
        var e = Assert.Throws<PciPassthroughException>(() => PciTemplateReader.Read(text));
        Assert.Equal(ErrorIds.InvalidTemplateSection, e.ErrorId);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Huge_input_is_refused_before_parsing()
    {
        var e = Assert.Throws<PciPassthroughException>(() => PciTemplateReader.Read(new string(' ', PciTemplateReader.MaxLength + 1)));
        Assert.Equal(ErrorIds.TemplateSyntax, e.ErrorId);
        Assert.StartsWith("template is 1048577 characters long; the limit is 1048576", e.Message);
    }
}
