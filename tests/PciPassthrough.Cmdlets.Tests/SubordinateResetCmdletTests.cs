namespace PciPassthrough.Cmdlets.Tests;

/// <summary>Reset-PciDevice -Subordinate as a user types it, on the testbed-shaped tree (TopologyHost).</summary>
public sealed class SubordinateResetCmdletTests : IDisposable
{
    private readonly FakeHost _host = TopologyHost.Create();
    private readonly PowerShellSession _ps = new();

    public SubordinateResetCmdletTests()
    {
        File.WriteAllText(Path.Combine(_host.DeviceDir("0000:00:07.0"), "reset_subordinate"), "");
    }

    private string Written => File.ReadAllText(Path.Combine(_host.DeviceDir("0000:00:07.0"), "reset_subordinate"));

    private ScriptResult Run(string script) => _ps.Run("param($root) " + script, _host.Root);

    [Fact]
    public void WhatIf_lists_every_device_below_and_writes_nothing()
    {
        var r = Run("Reset-PciDevice -Root $root -Address 0000:00:07.0 -Subordinate -WhatIf");
        Assert.Null(r.TerminatingError);
        Assert.Empty(r.Errors);
        Assert.Empty(r.Output);
        Assert.Contains("What if: reset everything below 0000:00:07.0", r.HostText);
        Assert.Matches(@"below 0000:00:07\.0 \([^)]*\) with a secondary bus reset \(reset_subordinate\): 0000:02:00\.0 \([^,]+, bound to pcieport\), 0000:03:00\.0 \([^,]+, bound to pcieport\), 0000:04:00\.0 \([^,]+, bound to e1000e\); their drivers are notified", r.HostText.ReplaceLineEndings(""));

        Assert.Equal("", Written);
    }

    [Fact]
    public void The_reset_writes_reset_subordinate_and_returns_the_devices_below()
    {
        var r = Run("Reset-PciDevice -Root $root -Address 0000:00:07.0 -Subordinate -Confirm:$false | ForEach-Object { '{0}|{1}|{2}|{3}' -f $_.PciAddress, $_.Succeeded, ($_.MethodsTried -join ' '), ($_.DevicesBelow -join ',') }");
        Assert.Null(r.TerminatingError);
        Assert.Equal(["0000:00:07.0|True|bus|0000:02:00.0,0000:03:00.0,0000:04:00.0"], r.Output.Select(o => o.ToString()));
        Assert.Equal("1", Written);
    }

    [Fact]
    public void Subordinate_and_Method_are_separate_parameter_sets_and_a_bridge_still_needs_the_switch()
    {
        var both = Run("Reset-PciDevice -Root $root -Address 0000:00:07.0 -Subordinate -Method bus -Confirm:$false");
        Assert.Equal("AmbiguousParameterSet", both.TerminatingError?.FullyQualifiedErrorId.Split(',')[0]);
        var plain = Run("Reset-PciDevice -Root $root -Address 0000:00:07.0 -Confirm:$false -ErrorVariable e -ErrorAction SilentlyContinue; $e | ForEach-Object { $_.FullyQualifiedErrorId.Split(',')[0] + '|' + $_.ErrorDetails.RecommendedAction }");
        Assert.Equal("DeviceIsNotAnEndpoint|Reset the endpoint devices behind the bridge instead, or, to reset everything below it on purpose, Reset-PciDevice -Address 0000:00:07.0 -Subordinate.", Assert.Single(plain.Output)?.ToString());
        var noFile = Run("Reset-PciDevice -Root $root -Address 0000:00:05.0 -Subordinate -Confirm:$false -ErrorVariable e -ErrorAction SilentlyContinue; $e | ForEach-Object { $_.FullyQualifiedErrorId.Split(',')[0] }");
        Assert.Equal(["ResetNotSupported"], noFile.Output.Select(o => o.ToString()));
        Assert.Equal("", Written);
    }

    public void Dispose()
    {
        _ps.Dispose();
        _host.Dispose();
    }
}
