namespace PciPassthrough.Cmdlets.Tests;

public sealed class ReadinessHostSession : IDisposable
{
    public FakeHost Host { get; } = ReadinessHost.Create();

    public PowerShellSession Ps { get; } = new();

    public ScriptResult Run(string script, params object?[] args) => Ps.Run("param($root) " + script, [Host.Root, .. args]);

    public void Dispose()
    {
        Ps.Dispose();
        Host.Dispose();
    }
}

public class ReadinessCmdletTests(ReadinessHostSession session) : IClassFixture<ReadinessHostSession>
{
    [Fact]
    public void Devices_piped_in_get_one_readiness_object_each_a_runbook_can_assert_on()
    {
        var r = session.Run("Get-PciDevice -Root $root -Filter '10de:*','8086:1521' | Test-PciPassthroughReadiness");
        Assert.Null(r.TerminatingError);
        Assert.Equal(["0000:01:00.0", "0000:02:00.0"], r.Values("PciAddress"));
        Assert.Equal([false, false], r.Values("ReadyNow"));
        Assert.Equal("PciPassthrough.Readiness.PassthroughReadiness", r.Output[0].TypeNames[0]);
        var fails = session.Run("(Test-PciPassthroughReadiness -Root $root -Address 0000:02:00.0).Findings | Where-Object Status -eq 'Fail' | ForEach-Object Name");
        Assert.Equal(["NotDefaultRouteInterface", "NoActiveVirtualFunctions"], fails.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void Without_an_address_every_device_is_assessed()
    {
        var r = session.Run("Test-PciPassthroughReadiness -Root $root");
        Assert.Equal(12, r.Output.Count);
    }

    [Fact]
    public void Bad_and_unknown_addresses_are_per_item_errors()
    {
        var r = session.Run("'zz', '0000:09:00.0', '0000:01:00.0' | Test-PciPassthroughReadiness -Root $root -ErrorAction Continue");
        Assert.Equal(["0000:01:00.0"], r.Values("PciAddress"));
        Assert.Equal(["InvalidPciAddress", "PciDeviceNotFound"], r.Errors.Select(e => e.FullyQualifiedErrorId.Split(',')[0]));
    }

    [Fact]
    public void The_table_names_what_blocks_each_device()
    {
        var text = session.Run("Test-PciPassthroughReadiness -Root $root -Address 0000:00:1f.2 | Out-Host").HostText;
        Assert.Matches(@"Address\s+Now\s+Reboot Driver\s+Attention", text);
        Assert.Matches(@"0000:00:1f\.2 False False\s+ahci\s+GroupIsolation \(Warning\), NoMountedStorage \(Fail\)", text);
    }

    [Fact]
    public void Readiness_survives_serialization_with_its_findings()
    {
        var r = session.Run("""
            $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize((Test-PciPassthroughReadiness -Root $root -Address 0000:03:00.0)))
            ($copy.Findings | Where-Object Name -eq 'NotBootVga').Status
            """);
        Assert.Equal(["Fail"], r.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void On_this_machine_read_only_its_own_disk_and_network_are_never_ready()
    {
        // This machine's PCI devices are its disk and network: the audit must say so (and write nothing).
        var root = session.Ps.Run("""
            $disk = Get-PciDevice | Where-Object { $_.Class -like '01*' } | Test-PciPassthroughReadiness |
                Where-Object { ($_.Findings | Where-Object Name -eq 'NoMountedStorage').Status -eq 'Fail' }
            $nic = Get-PciDevice | Where-Object { $_.NetworkInterfaces } | Test-PciPassthroughReadiness |
                Where-Object { ($_.Findings | Where-Object Name -eq 'NotDefaultRouteInterface').Status -eq 'Fail' }
            "disk=$(@($disk).Count) nic=$(@($nic).Count) readydisk=$(@($disk | Where-Object ReadyNow).Count) readynic=$(@($nic | Where-Object ReadyNow).Count)"
            """);
        Assert.Null(root.TerminatingError);
        var mountsRoot = File.ReadAllLines("/proc/mounts").Any(l => l.Split(' ') is [var dev, "/", ..] && dev.StartsWith("/dev/", StringComparison.Ordinal));
        var hasDefaultRoute = File.ReadAllLines("/proc/net/route").Skip(1).Any(l => l.Split('\t') is [_, "00000000", ..]);
        var summary = root.Output.Single().ToString();
        Assert.Contains(mountsRoot ? "disk=1" : "disk=0", summary);
        Assert.Contains(hasDefaultRoute ? "nic=1" : "nic=0", summary);
        Assert.Contains("readydisk=0 readynic=0", summary);
    }
}
