using System.Text.RegularExpressions;
using PciPassthrough.Filtering;

namespace PciPassthrough.Core.Tests;

/// <summary>D18: device-name patterns cost time linear in the names, or one budget for the whole call.</summary>
public class NamePatternsTests
{
    private static readonly string[] Names =
    [
        "GK104GL [GRID K2]", "TU104GL [Tesla T4]", "GA100 [A100 PCIe 40GB]", "82574L Gigabit Network Connection",
        "I350 Ethernet Controller Virtual Function", "Device", "", "MT27800 Family [ConnectX-5 Virtual Function]",
    ];

    [Theory]
    [InlineData("t4|a100")]
    [InlineData("^device$")]
    [InlineData(@"\[grid")]
    [InlineData("(.*.*.*){4}!")]
    [InlineData("virtual function$")]
    [InlineData("(a|e)+t")]
    [InlineData("")]
    public void A_pattern_matches_as_the_backtracking_engine_matches_it(string pattern)
    {
        var patterns = new NamePatterns([pattern], "-DeviceName");
        Assert.Equal(0, patterns.BacktrackingCount);
        var backtracking = new Regex(pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        foreach (var name in Names)
        {
            Assert.Equal(backtracking.IsMatch(name), patterns.AnyMatches(name));
        }
    }

    [Fact]
    public void A_linear_pattern_never_spends_the_calls_budget()
    {
        // The pattern that took 18.9 s on 300 devices with a budget per match; no budget is left at all here.
        var patterns = new NamePatterns(["(.*.*.*){4}!"], "-DeviceName", TimeSpan.FromTicks(1));
        for (var i = 0; i < 1000; i++)
        {
            Assert.False(patterns.AnyMatches(Names[i % Names.Length] + new string('x', i % 64)));
        }
    }

    [Fact]
    public void A_pattern_only_the_backtracking_engine_runs_shares_one_budget_across_the_call()
    {
        var patterns = new NamePatterns([@"(\w)\1"], "-DeviceName", TimeSpan.FromTicks(1));
        Assert.Equal(1, patterns.BacktrackingCount);
        var e = Assert.Throws<PciPassthroughException>(() => Names.Select(patterns.AnyMatches).ToList());
        Assert.Equal(ErrorIds.DeviceNamePatternTimeout, e.ErrorId);
        Assert.Contains("in total", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_pattern_is_refused_with_the_parameter_it_came_from()
    {
        var e = Assert.Throws<PciPassthroughException>(() => new NamePatterns(["(unclosed"], ":device_name:"));
        Assert.Equal(ErrorIds.InvalidDeviceNamePattern, e.ErrorId);
        Assert.Contains(":device_name:", e.RecommendedAction, StringComparison.Ordinal);
    }
}
