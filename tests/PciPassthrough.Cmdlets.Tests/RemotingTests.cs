namespace PciPassthrough.Cmdlets.Tests;

/// <summary>Objects that come back from Invoke-Command (deserialized) look and bind as live ones.</summary>
public class RemotingTests(ReadinessHostSession session) : IClassFixture<ReadinessHostSession>
{
    [Theory]
    [InlineData("Get-IommuGroup -Root $root -Number 5,9")]
    [InlineData("Test-PciPassthroughReadiness -Root $root -Address 0000:01:00.0,0000:00:1f.2")]
    [InlineData("Test-IommuSupport -Root $root")]
    [InlineData("(Test-IommuSupport -Root $root).Checks")]
    [InlineData("Get-VfioHostConfiguration -Root $root")]
    public void Deserialized_results_format_with_the_same_views(string command)
    {
        var live = session.Run(command + " | Out-Host").HostText;
        // Remoting serializes each output object on its own, at the default depth lifted by the type's.
        var remote = session.Run($"{command} | ForEach-Object {{ [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($_)) }} | Out-Host").HostText;
        Assert.False(string.IsNullOrWhiteSpace(live));
        Assert.Equal(live, remote);
    }

    [Fact]
    public void A_remote_runbook_can_test_a_finding_by_its_status_name()
    {
        var r = session.Run("""
            $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize((Test-PciPassthroughReadiness -Root $root -Address 0000:00:1f.2)))
            ($copy.Findings | Where-Object Status -eq 'Fail' | ForEach-Object { $_.Name }) -join ','
            """);
        Assert.Equal(["NoMountedStorage"], r.Output.Select(o => o.ToString()));
    }
}
