using PciPassthrough.Filtering;

namespace PciPassthrough.Core.Tests;

public class IdFilterTests
{
    [Theory]
    [InlineData("10de:*", 0x10de, 0x1eb8, 0x030200, true)]
    [InlineData("10de:", 0x10de, 0x1eb8, 0x030200, true)]
    [InlineData(":1eb8", 0x10de, 0x1eb8, 0x030200, true)]
    [InlineData("10DE:1EB8", 0x10de, 0x1eb8, 0x030200, true)]
    [InlineData("10de:*", 0x8086, 0x1eb8, 0x030200, false)]
    [InlineData("*:*", 0x1234, 0x5678, 0x000000, true)]
    [InlineData("*:*:0302", 0x10de, 0x1eb8, 0x030200, true)]
    [InlineData("*:*:03xx", 0x10de, 0x1eb8, 0x030200, true)]
    [InlineData("*:*:03xx", 0x10de, 0x1eb8, 0x020000, false)]
    [InlineData("*:*:03", 0x10de, 0x1eb8, 0x030200, false)]
    [InlineData("*:*:03", 0x10de, 0x1eb8, 0x000300, true)]
    [InlineData("*:*:x2xx", 0x10de, 0x1eb8, 0x030200, false)]
    [InlineData("*:*:x2xx", 0x8086, 0x1521, 0x020000, true)]
    [InlineData("*:*:xx02", 0x10de, 0x1eb8, 0x030200, true)]
    [InlineData("*:*:*:00", 0x10de, 0x1eb8, 0x030200, true)]
    [InlineData("*:*:*:01", 0x10de, 0x1eb8, 0x030200, false)]
    [InlineData("*:*:0106:01", 0x8086, 0x2922, 0x010601, true)]
    [InlineData("0:0", 0x8086, 0x2922, 0x010601, false)]
    [InlineData("0010de:01eb8", 0x10de, 0x1eb8, 0x030200, true)]
    public void Filters_match_as_lspci_d(string filter, int vendor, int device, int classCode, bool expected)
    {
        Assert.Equal(expected, IdFilter.Parse(filter).Matches(vendor, device, classCode));
    }

    [Theory]
    [InlineData("10de", "At least two fields must be given")]
    [InlineData("", "At least two fields must be given")]
    [InlineData("1:2:3:4:5", "Too many fields")]
    [InlineData("g:0", "Invalid vendor ID")]
    [InlineData("10000:0", "Invalid vendor ID")]
    [InlineData("x:0", "Invalid vendor ID")]
    [InlineData("0:10000", "Invalid device ID")]
    [InlineData("0:0:10000", "Invalid class code")]
    [InlineData("0:0:3xxxx", "Invalid class code")]
    [InlineData("0:0:0:100", "Invalid programming interface code")]
    [InlineData("0:0:0:x", "Invalid programming interface code")]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000:0", "Expression too long")]
    public void Malformed_filters_name_lspcis_reason(string filter, string reason)
    {
        var e = Assert.Throws<PciPassthroughException>(() => IdFilter.Parse(filter));
        Assert.Equal(ErrorIds.InvalidFilter, e.ErrorId);
        Assert.Contains(reason, e.Message);
        Assert.Equal(filter, e.Target);
    }

    [Fact]
    public void Comma_separated_entries_become_separate_filters_in_order()
    {
        var filters = IdFilter.ParseList(["10de:*,8086:1520", "*:*:03xx"]);
        Assert.Equal(["10de:*", "8086:1520", "*:*:03xx"], filters.Select(f => f.Text));
    }

    [Fact]
    public void A_device_whose_ids_could_not_be_read_matches_only_wildcards()
    {
        Assert.True(IdFilter.Parse("*:*").Matches(null, null, null));
        Assert.False(IdFilter.Parse("8086:*").Matches(null, null, null));
        Assert.False(IdFilter.Parse("*:*:0200").Matches(0x8086, 0x1, null));
    }
}
