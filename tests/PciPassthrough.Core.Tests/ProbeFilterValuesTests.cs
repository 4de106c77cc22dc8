using PciPassthrough.OpenNebula.Probe;

namespace PciPassthrough.Core.Tests;

public class ProbeFilterValuesTests
{
    [Fact]
    public void Values_the_probe_can_match_pass()
    {
        ProbeFilterValues.Validate(["10de:*", "*:*:0300"], ["0a:00.0", "0001:0a:00.0"], ["GK104|A100"], ["10de"]);
        ProbeFilterValues.Validate(null, null, null, null);
    }

    [Theory]
    [InlineData("0000:0a:00.0", null, "InvalidPciAddress")] // lspci prints domain 0000 without it
    [InlineData("0A:00.0", null, "InvalidPciAddress")]      // lspci prints lower case
    [InlineData(null, "10DEX", "InvalidPciFilter")]
    public void Values_the_probe_would_never_match_are_refused(string? shortAddress, string? vendor, string errorId)
    {
        var e = Assert.Throws<PciPassthroughException>(() => ProbeFilterValues.Validate(null, shortAddress is null ? null : [shortAddress], null, vendor is null ? null : [vendor]));
        Assert.Equal(errorId, e.ErrorId);
        Assert.Equal(shortAddress ?? vendor, e.Target);
    }

    [Fact]
    public void A_bad_filter_or_pattern_is_refused_with_its_own_id()
    {
        Assert.Equal(ErrorIds.InvalidFilter, Assert.Throws<PciPassthroughException>(() => ProbeFilterValues.Validate(["10de"], null, null, null)).ErrorId);
        Assert.Equal(ErrorIds.InvalidDeviceNamePattern, Assert.Throws<PciPassthroughException>(() => ProbeFilterValues.Validate(null, null, ["GK104("], null)).ErrorId);
    }
}
