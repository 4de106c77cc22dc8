using PciPassthrough.OpenNebula;
using PciPassthrough.Yaml;

namespace PciPassthrough.Core.Tests;

/// <summary>Set-PciProbeFilter's rewrite on the shapes that once broke it (D1, D17, D11).</summary>
public class ProbeFilterRewriteTests
{
    private static readonly ProbeFilterYaml Yaml = new();

    private const string Vendors = ":nvidia_vendors:\n  - '10de'\n";

    /// <summary>What Set-PciProbeFilter does: keys not given keep the values read from the file.</summary>
    private static string Set(string text, string? filter, string? shortAddress, string? deviceName = null)
    {
        var old = Yaml.HoldsSettings(text, "/p") ? Yaml.Parse(text, "/p") : new PciProbeFilter();
        var updated = old.With(Split(filter), Split(shortAddress), Split(deviceName), null);
        if (updated.UnusableKeys.Count > 0)
        {
            throw ErrorCatalog.ProbeFilterValueUnusable("/p", updated.UnusableKeys[0], device: null);
        }

        return Yaml.Render(updated, text, "/p");
    }

    private static string[]? Split(string? list) => list is null ? null : list.Split('|', StringSplitOptions.RemoveEmptyEntries);

    public static TheoryData<string, string?, string?, string?, string> Shapes => new()
    {
        // D1 and D10: an empty :short_address: (Ruby's nil, on which pci.rb stops) repaired as asked, and the key
        // being set written, in every line-ending shape; other lines keep their bytes.
        { ":filter: '0:0'\n:short_address:\n:device_name: []\n", "10de:*", "", null, ":filter: '10de:*'\n:short_address: []\n:device_name: []\n" + Vendors },
        { ":filter: '0:0'\r\n:short_address:\r\n:device_name: []\r\n", "10de:*", "", null, ":filter: '10de:*'\r\n:short_address: []\r\n:device_name: []\r\n" + Vendors.Replace("\n", "\r\n", StringComparison.Ordinal) },
        { ":filter: '0:0'\n:short_address:", "10de:*", "", null, ":filter: '10de:*'\n:short_address: []\n:device_name: []\n" + Vendors },
        { ":filter: '0:0'\n:short_address: # none yet\n:device_name: []\n", "10de:*", "", null, ":filter: '10de:*'\n:short_address: [] # none yet\n:device_name: []\n" + Vendors },
        // An empty :filter: (Ruby: nil, every device) is not turned into [] when another key is set.
        { ":filter:\n:short_address: []\n", null, "04:00.0", null, ":filter:\n:short_address:\n  - '04:00.0'\n:device_name: []\n" + Vendors },
        // Asking for every device where the empty :filter: already means that keeps its bytes.
        { ":filter:\n:device_name: []\n", "*:*", null, null, ":filter:\n:device_name: []\n:short_address: []\n" + Vendors },
        { ":filter:   # all\n:device_name: []\n", "*:*", null, null, ":filter:   # all\n:device_name: []\n:short_address: []\n" + Vendors },
        // A value written for an empty one: inline after a space, a block list after the line's comment.
        { ":filter:   # all\n:device_name: []\n", "10de:*", null, null, ":filter: '10de:*'   # all\n:device_name: []\n:short_address: []\n" + Vendors },
        { ":short_address: # slots\r\n:filter: '0:0'\r\n", null, "04:00.0", null, ":short_address: # slots\r\n  - '04:00.0'\r\n:filter: '0:0'\r\n:device_name: []\r\n" + Vendors.Replace("\n", "\r\n", StringComparison.Ordinal) },
        { ":filter: '0:0'\n:device_name:", null, null, "A100", ":filter: '0:0'\n:device_name:\n  - 'A100'\n:short_address: []\n" + Vendors },
        // D17: a key not given keeps the comments inside its block list, and a block scalar.
        { ":device_name:\n  - 'A100'   # datacenter\n  # - 'T4'   disabled for now\n  - 'V100'\n", "10de:*", null, null, ":device_name:\n  - 'A100'   # datacenter\n  # - 'T4'   disabled for now\n  - 'V100'\n:filter: '10de:*'\n:short_address: []\n" + Vendors },
        { ":filter: |\n  10de:*\n# next\n:short_address: []\n", null, "04:00.0", null, ":filter: |\n  10de:*\n# next\n:short_address:\n  - '04:00.0'\n:device_name: []\n" + Vendors },
        { ":filter: |\n  10de:*\n# next\n:short_address: []\n", "8086:*", null, null, ":filter: '8086:*'\n# next\n:short_address: []\n:device_name: []\n" + Vendors },
        // D17: keys go inside the first document, before its end marker or the next document.
        { "---\n:filter: '0:0'\n...\n", "10de:*", null, null, "---\n:filter: '10de:*'\n:short_address: []\n:device_name: []\n" + Vendors + "...\n" },
        { "---\n:filter: '0:0'\n---\n:filter: '*:*'\n", null, "04:00.0", null, "---\n:filter: '0:0'\n:short_address:\n  - '04:00.0'\n:device_name: []\n" + Vendors + "---\n:filter: '*:*'\n" },
        { "---\n...\n", "*:*", null, null, "---\n:filter: '*:*'\n:short_address: []\n:device_name: []\n" + Vendors + "...\n" },
        // D11: a double-quoted value continued in column 0 keeps its bytes, and a key after it is edited in place.
        { ":device_name: [\"a\n:b\"]\n:filter: '0:0'\n", "10de:*", null, null, ":device_name: [\"a\n:b\"]\n:filter: '10de:*'\n:short_address: []\n" + Vendors },
        { ":filter: \"0:0\n\"\n:short_address: []\n", null, "04:00.0", null, ":filter: \"0:0\n\"\n:short_address:\n  - '04:00.0'\n:device_name: []\n" + Vendors },
        // A block list replaced by an inline value, with a comment between key and list.
        { ":device_name: # names\n  - 'A100'\n:filter: '0:0'\n", null, null, "", ":device_name: # names\n []\n:filter: '0:0'\n:short_address: []\n" + Vendors },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_rewrite_is_exact_reads_back_and_a_second_run_changes_nothing(string original, string? filter, string? shortAddress, string? deviceName, string expected)
    {
        var written = Set(original, filter, shortAddress, deviceName);
        Assert.Equal(expected, written);

        var back = Yaml.Parse(written, "/p");
        var before = Yaml.HoldsSettings(original, "/p") ? Yaml.Parse(original, "/p") : new PciProbeFilter();
        Assert.Equal(Split(filter) ?? before.Filter, back.Filter);
        Assert.Equal(Split(shortAddress) ?? before.ShortAddress, back.ShortAddress);
        Assert.Equal(Split(deviceName) ?? before.DeviceName, back.DeviceName);

        Assert.Equal(written, Set(written, filter, shortAddress, deviceName));
        Assert.Equal(written, Yaml.Render(back, written, "/p"));
    }

    [Fact]
    public void A_layout_the_new_values_cannot_go_into_is_refused_rather_than_written_unreadable()
    {
        var e = Assert.Throws<PciPassthroughException>(() => Yaml.Render(new PciProbeFilter(["*:*"]), "{a: b}\n", "/p"));
        Assert.Equal(ErrorIds.ProbeFilterInvalid, e.ErrorId);
        Assert.Contains("cannot take the new values", e.Message);
    }

    [Theory]
    [InlineData(":short_address:\n:filter: '0:0'\n")]
    [InlineData(":filter: '0:0'\n:nvidia_vendors: ~\n")]
    [InlineData(":device_name: 'T4'\n")]
    public void A_value_pci_rb_cannot_use_is_not_kept_by_a_rewrite_of_another_key(string text)
    {
        var e = Assert.Throws<PciPassthroughException>(() => Set(text, "10de:*", null));
        Assert.Equal(ErrorIds.ProbeFilterValueUnusable, e.ErrorId);
        Assert.Contains("Set-PciProbeFilter -", e.RecommendedAction);
    }

    [Theory]
    [InlineData(":device_name: ['a\n:b']\n:filter: '*:*'\n", "a :b")]
    [InlineData(":device_name: ['x']\n:filter: '*:*'\n", "x")]
    [InlineData(":filter: '*:*'\n:device_name: ['a\n:b \uE000']\n", "a :b \uE000")]
    public void A_colon_opening_a_continuation_line_stays_a_colon(string text, string deviceName)
    {
        Assert.Equal([deviceName], Yaml.Parse(text, "/p").DeviceName);
    }
}
