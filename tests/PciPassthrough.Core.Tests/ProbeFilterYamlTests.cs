using PciPassthrough.OpenNebula;
using PciPassthrough.Yaml;

namespace PciPassthrough.Core.Tests;

public class ProbeFilterYamlTests
{
    private static readonly ProbeFilterYaml Yaml = new();

    // OpenNebula's shipped pci.conf, comments included.
    private const string Shipped = """
        # This option specifies the main filters for PCI card monitoring. The format
        # is the same as used by lspci to filter on PCI card by vendor:device(:class)
        :filter: '0:0'

        # The PCI cards list restricted by the :filter option above can be even more
        # filtered by the list of exact PCI addresses (bus:device.func).
        :short_address: []

        # The PCI cards list restricted by the :filter option above can be even more
        # filtered by matching the device name against the list of regular expression
        # case-insensitive patterns.
        :device_name: []

        # List of NVIDIA vendor IDs, these are used to recognize PCI devices from
        # NVIDIA and use vGPU feature
        :nvidia_vendors:
          - '10de'

        """;

    [Fact]
    public void The_shipped_file_reads_as_opennebulas_defaults()
    {
        var f = Yaml.Parse(Shipped, "/pci.conf");
        Assert.Equal(["0:0"], f.Filter);
        Assert.Empty(f.ShortAddress);
        Assert.Empty(f.DeviceName);
        Assert.Equal(["10de"], f.NvidiaVendors);
        Assert.Equal("/pci.conf", f.Path);
    }

    [Theory]
    [InlineData(":filter: '*:*'\n", "*:*", "10de")]
    [InlineData(":filter:\n  - '10de:*'\n  - '8086:1520'\n:nvidia_vendors: ['10de', '1234']\n", "10de:*|8086:1520", "10de|1234")]
    [InlineData(":filter: '10de:*,8086:*'\n:unknown_key: 42\n", "10de:*,8086:*", "10de")]
    public void Missing_keys_take_the_defaults_and_filter_is_a_string_or_a_list(string text, string filter, string vendors)
    {
        var f = Yaml.Parse(text, "/pci.conf");
        Assert.Equal(filter.Split('|'), f.Filter);
        Assert.Equal(vendors.Split('|'), f.NvidiaVendors);
    }

    [Theory]
    [InlineData(":filter: [unclosed\n", "line 2, column 1")]
    [InlineData(":filter: '0:0'\n  bad: indent: here\n", "line 2")]
    [InlineData(":filter:\n  nested: map\n", ":filter: must be a string or a list")]
    [InlineData(":short_address:\n  - [a, b]\n", ":short_address: entries must be strings")]
    [InlineData("- just\n- a list\n", "must be a mapping")]
    public void Malformed_files_are_the_stable_error_with_the_position(string text, string expected)
    {
        var e = Assert.Throws<PciPassthroughException>(() => Yaml.Parse(text, "/etc/pci.conf"));
        Assert.Equal(ErrorIds.ProbeFilterInvalid, e.ErrorId);
        Assert.Contains(expected, e.Message);
        Assert.Contains("/etc/pci.conf", e.Message);
    }

    [Fact]
    public void Writing_changes_only_the_values_and_keeps_every_comment_line_and_unknown_key()
    {
        var original = Shipped.Replace(":nvidia_vendors:", ":custom_key: keep me\n:nvidia_vendors:", StringComparison.Ordinal);
        var written = Yaml.Render(new PciProbeFilter(["10de:*", "8086:1520"], ["04:00.0"], ["T4|A100"], ["10de"]), original, "/pci.conf");
        var expected = original
            .Replace(":filter: '0:0'", ":filter:\n  - '10de:*'\n  - '8086:1520'", StringComparison.Ordinal)
            .Replace(":short_address: []", ":short_address:\n  - '04:00.0'", StringComparison.Ordinal)
            .Replace(":device_name: []", ":device_name:\n  - 'T4|A100'", StringComparison.Ordinal);
        Assert.Equal(expected, written);
        var back = Yaml.Parse(written, "/pci.conf");
        Assert.Equal(["10de:*", "8086:1520"], back.Filter);
        Assert.Equal(["04:00.0"], back.ShortAddress);
        Assert.Equal(["T4|A100"], back.DeviceName);
    }

    [Fact]
    public void A_flow_list_followed_by_a_colon_key_reads_as_ruby_reads_it()
    {
        var f = Yaml.Parse(":nvidia_vendors: ['10de', '1234']\n:filter: ['10de:*', '8086:*']\n:device_name: []\n", "/p");
        Assert.Equal(["10de", "1234"], f.NvidiaVendors);
        Assert.Equal(["10de:*", "8086:*"], f.Filter);
        var rewritten = Yaml.Render(new PciProbeFilter(["*:*"]), ":nvidia_vendors: ['10de', '1234']\n:filter: ['10de:*', '8086:*']\n", "/p");
        Assert.Equal(":nvidia_vendors:\n  - '10de'\n:filter: '*:*'\n:short_address: []\n:device_name: []\n", rewritten);
    }

    [Fact]
    public void Writing_an_identical_filter_reproduces_the_file_exactly_except_for_normalised_values()
    {
        var once = Yaml.Render(Yaml.Parse(Shipped, "/p"), Shipped, "/p");
        Assert.Equal(once, Yaml.Render(Yaml.Parse(once, "/p"), once, "/p"));
    }

    [Fact]
    public void Any_garbage_either_parses_or_is_the_stable_error_never_another_exception()
    {
        const string alphabet = ":-[]{}'\"#,!&*|>%@` \n\tab01:filter_short";
        var random = new Random(20261124);
        for (var i = 0; i < 5000; i++)
        {
            var text = new string(Enumerable.Range(0, random.Next(0, 60)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
            try
            {
                var f = Yaml.Parse(text, "/p");
                Yaml.Parse(Yaml.Render(f, text, "/p"), "/p");
            }
            catch (PciPassthroughException e)
            {
                Assert.Equal(ErrorIds.ProbeFilterInvalid, e.ErrorId);
            }
        }
    }

    [Fact]
    public void A_missing_file_is_written_with_all_four_keys_and_quotes_are_escaped()
    {
        var written = Yaml.Render(new PciProbeFilter(["*:*"], deviceName: ["O'Brien"]), null, "/p");
        Assert.Equal("---\n:filter: '*:*'\n:short_address: []\n:device_name:\n  - 'O''Brien'\n:nvidia_vendors:\n  - '10de'\n", written);
        Assert.Equal(["O'Brien"], Yaml.Parse(written, "/p").DeviceName);
    }
}
