using PciPassthrough.OpenNebula;
using PciPassthrough.OpenNebula.Placement;
using PciPassthrough.OpenNebula.Templates;
using PciPassthrough.Yaml;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// Work bounded by input size (D18): documented limits with their own error, and inputs within the
/// limits read in one pass. The time guards only catch a hang; they measure nothing.
/// </summary>
public class InputLimitTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Forty_thousand_pci_sections_within_the_size_limit_read_in_one_pass()
    {
        var text = string.Concat(Enumerable.Repeat("PCI = [ VENDOR = \"10de\" ]\n", 40_000));
        Assert.True(text.Length <= PciTemplateReader.MaxLength);
        var read = Task.Run(() => PciTemplateReader.Read(text));
        Assert.Same(read, await Task.WhenAny(read, Task.Delay(HangGuard)));
        Assert.Equal(40_000, (await read).Count);
    }

    [Fact]
    public void Template_positions_stay_right_after_the_counting_resumes()
    {
        var e = Assert.Throws<PciPassthroughException>(() => PciTemplateReader.Read("PCI = [ VENDOR = \"10de\" ]\nPCI = [ VENDOR = \"10de\" ]\n\n  PCI = \"x\"\n"));
        Assert.Contains("line 4, column 3", e.Message);
    }

    [Fact]
    public async Task Host_xml_nested_deeper_than_the_limit_is_refused_with_its_own_error_at_once()
    {
        static string Nested(int depth) => "<HOST><NAME>a</NAME>" + string.Concat(Enumerable.Repeat("<X>", depth)) + string.Concat(Enumerable.Repeat("</X>", depth)) + "</HOST>";
        Assert.Single(HostInventoryXml.Read(Nested(HostInventoryXml.MaxDepth - 2), null, null, null));
        var read = Task.Run(() => Assert.Throws<PciPassthroughException>(() => HostInventoryXml.Read(Nested(40_000), null, null, null)));
        Assert.Same(read, await Task.WhenAny(read, Task.Delay(HangGuard)));
        Assert.Equal(ErrorIds.InputTooComplex, (await read).ErrorId);
    }

    [Fact]
    public async Task Pci_conf_nested_deeper_than_the_limit_is_refused_with_its_own_error_at_once()
    {
        static string Nested(int depth) => ":filter: '0:0'\n:other: " + string.Concat(Enumerable.Repeat("{a: ", depth)) + "b" + new string('}', depth) + "\n";
        Assert.Equal(["0:0"], new ProbeFilterYaml().Parse(Nested(ProbeFilterYaml.MaxDepth - 1), "/pci.conf").Filter);
        var read = Task.Run(() => Assert.Throws<PciPassthroughException>(() => new ProbeFilterYaml().Parse(Nested(40_000), "/pci.conf")));
        Assert.Same(read, await Task.WhenAny(read, Task.Delay(HangGuard)));
        Assert.Equal(ErrorIds.InputTooComplex, (await read).ErrorId);
        Assert.Equal(ErrorIds.InputTooComplex, Assert.Throws<PciPassthroughException>(() => new ProbeFilterYaml().Parse(new string('#', ProbeFilterYaml.MaxLength + 1), "/pci.conf")).ErrorId);
    }
}
