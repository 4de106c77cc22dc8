namespace PciPassthrough.Core.Tests;

public class PciAddressTests
{
    [Theory]
    [InlineData("0000:04:00.0", "0000:04:00.0", "04:00.0")]
    [InlineData("04:00.0", "0000:04:00.0", "04:00.0")]
    [InlineData("0000:AF:1F.7", "0000:af:1f.7", "af:1f.7")]
    [InlineData("0001:00:00.0", "0001:00:00.0", "0001:00:00.0")]
    [InlineData("10000:e1:00.0", "10000:e1:00.0", "10000:e1:00.0")]
    public void Valid_addresses_parse_and_print_as_sysfs_and_lspci_do(string text, string full, string lspciSlot)
    {
        Assert.True(PciAddress.TryParse(text, out var a));
        Assert.Equal(full, a.ToString());
        Assert.Equal(lspciSlot, a.ToLspciSlot());
    }

    [Theory]
    [InlineData("")]
    [InlineData("0000:04:00")]
    [InlineData("0000:04:20.0")]
    [InlineData("0000:04:00.8")]
    [InlineData("0000:004:00.0")]
    [InlineData("000:04:00.0")]
    [InlineData("0000:04:00.0/")]
    [InlineData("../04:00.0")]
    [InlineData("0000:..:00.0")]
    [InlineData("0000:04:00.0\n")]
    [InlineData("0000:0g:00.0")]
    [InlineData(" 0000:04:00.0")]
    [InlineData("0000:04:00.0:1")]
    [InlineData("0x00:04:00.0")]
    public void Malformed_addresses_are_rejected_with_the_stable_error(string text)
    {
        Assert.False(PciAddress.TryParse(text, out _));
        var e = Assert.Throws<PciPassthroughException>(() => PciAddress.Parse(text));
        Assert.Equal(ErrorIds.InvalidAddress, e.ErrorId);
        Assert.Equal(text, e.Target);
        Assert.Contains("DDDD:BB:SS.F", e.RecommendedAction);
    }

    [Fact]
    public void Addresses_sort_in_lspci_order()
    {
        var sorted = new[] { "0001:00:00.0", "0000:02:00.0", "0000:00:1f.3", "0000:00:1f.0", "0000:00:02.0" }
            .Select(PciAddress.Parse).Order().Select(a => a.ToString());
        Assert.Equal(["0000:00:02.0", "0000:00:1f.0", "0000:00:1f.3", "0000:02:00.0", "0001:00:00.0"], sorted);
    }
}
