namespace PciPassthrough.Cmdlets.Tests;

public sealed class IommuHostSession : IDisposable
{
    public IommuHostSession()
    {
        Host = SampleHost.Create().WithHealthyIntelIommu();
        Ps = new PowerShellSession();
    }

    public FakeHost Host { get; }

    public PowerShellSession Ps { get; }

    public ScriptResult Run(string script, params object?[] args) => Ps.Run("param($root) " + script, [Host.Root, .. args]);

    public void Dispose()
    {
        Ps.Dispose();
        Host.Dispose();
    }
}

public class IommuCmdletTests(IommuHostSession session) : IClassFixture<IommuHostSession>
{
    private const string GroupFqid = ",PciPassthrough.PowerShell.Commands.GetIommuGroupCommand";

    private static List<object?> Numbers(ScriptResult r) => r.Values("Number").ToList();

    [Fact]
    public void Test_IommuSupport_returns_one_report_whose_Supported_a_runbook_asserts_on()
    {
        var r = session.Run("Test-IommuSupport -Root $root");
        Assert.Null(r.TerminatingError);
        var report = Assert.Single(r.Output);
        Assert.Equal("PciPassthrough.Iommu.IommuSupportReport", report.TypeNames[0]);
        Assert.Equal(true, report.Properties["Supported"].Value);
        var statuses = session.Run("(Test-IommuSupport -Root $root).Checks | ForEach-Object { '{0}={1}' -f $_.Name, $_.Status }");
        Assert.Contains("InterruptRemapping=Pass", statuses.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void Quiet_returns_a_bare_boolean()
    {
        var r = session.Run("Test-IommuSupport -Root $root -Quiet; Test-IommuSupport -Root ($root + '/proc') -Quiet");
        Assert.Equal([true, false], r.Output.Select(o => o.BaseObject));
    }

    [Fact]
    public void Piped_devices_of_one_host_give_one_report()
    {
        var r = session.Run("Get-PciDevice -Root $root | Test-IommuSupport -Quiet");
        Assert.Equal([true], r.Output.Select(o => o.BaseObject));
    }

    [Fact]
    public void Get_IommuGroup_on_a_tree_without_sysfs_says_so()
    {
        var r = session.Run("Get-IommuGroup -Root ($root + '/proc')");
        Assert.Equal("PciSysfsUnreadable" + GroupFqid, r.TerminatingError?.FullyQualifiedErrorId);
    }

    [Fact]
    public void The_report_view_lists_checks_and_remedies()
    {
        using var broken = new FakeHost().WithHealthyIntelIommu();
        broken.WriteFile("proc/cmdline", "ro intel_iommu=off");
        var text = session.Ps.Run("Test-IommuSupport -Root $args[0] | Out-Host", broken.Root).HostText;
        Assert.Matches(@"Supported\s+: False", text);
        Assert.Matches(@"IommuType\s+: Intel VT-d", text);
        Assert.Contains("KernelCommandLine: Fail", text);
        Assert.Contains("KernelCommandLine: Remove the 'off' setting and add intel_iommu=on", text);
    }

    [Fact]
    public void Get_IommuGroup_lists_every_group_or_the_numbers_asked_for()
    {
        Assert.Equal([0, 1, 5, 6, 7, 8, 9, 10, 11], Numbers(session.Run("Get-IommuGroup -Root $root")));
        Assert.Equal([9, 5], Numbers(session.Run("Get-IommuGroup -Root $root -Number 9,5")));
        Assert.Equal([5, 6], Numbers(session.Run("5, 6 | Get-IommuGroup -Root $root")));
    }

    [Fact]
    public void Devices_piped_in_give_their_groups_each_once()
    {
        var r = session.Run("Get-PciDevice -Root $root -Filter '8086:*' | Get-IommuGroup");
        Assert.Null(r.TerminatingError);
        Assert.Empty(r.Errors);
        Assert.Equal([0, 1, 5, 7, 8, 9], Numbers(r));
        var group5 = r.Output.Single(o => (int)o.Properties["Number"].Value == 5);
        Assert.Equal(false, group5.Properties["Viable"].Value);
    }

    [Fact]
    public void Deserialized_devices_from_remoting_give_their_groups()
    {
        var r = session.Run("""
            $copies = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize((Get-PciDevice -Root $root -Filter '10de:*')))
            $copies | Get-IommuGroup
            """);
        Assert.Null(r.TerminatingError);
        Assert.Equal([6], Numbers(r));
    }

    [Fact]
    public void A_device_without_a_group_and_a_missing_group_are_per_item_errors()
    {
        var r = session.Run("Get-PciDevice -Root $root -Address 0000:04:00.0,0000:01:00.0 | Get-IommuGroup -ErrorAction Continue; Get-IommuGroup -Root $root -Number 99,6 -ErrorAction Continue");
        Assert.Null(r.TerminatingError);
        Assert.Equal([6, 6], Numbers(r));
        Assert.Equal(["PciDeviceHasNoIommuGroup" + GroupFqid, "IommuGroupNotFound" + GroupFqid], r.Errors.Select(e => e.FullyQualifiedErrorId));
        Assert.Equal("0000:04:00.0", r.Errors[0].TargetObject);
        Assert.Equal(99, r.Errors[1].TargetObject);
        Assert.Contains("Test-IommuSupport", r.Errors[0].ErrorDetails.RecommendedAction);
    }

    [Fact]
    public void The_group_view_shows_viability_node_and_members_with_drivers()
    {
        var text = session.Run("Get-IommuGroup -Root $root -Number 5 | Out-Host").HostText;
        Assert.Matches(@"Group Viable DevicePath\s+Isolation\s+Devices", text);
        Assert.Matches(@"\s+5 False\s+SharedMultifunction\s+0000:00:1f\.0 \(lpc_ich\), 0000:00:1f\.2 \(ahci\), 0000:00:1f\.3 \(i801_smbus\)", text);
    }

    [Fact]
    public void Groups_survive_serialization_with_their_devices()
    {
        var r = session.Run("""
            $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize((Get-IommuGroup -Root $root -Number 5)))
            $copy.Devices[1].PciAddress
            $copy.Blockers.Count
            """);
        Assert.Equal(["0000:00:1f.2", 3], r.Output.Select(o => o.BaseObject));
    }
}

public sealed class TopologyCmdletTests : IDisposable
{
    private readonly FakeHost _host = TopologyHost.Create();
    private readonly PowerShellSession _ps = new();

    public void Dispose()
    {
        _ps.Dispose();
        _host.Dispose();
    }

    private ScriptResult Run(string script) => _ps.Run("param($root) " + script, [_host.Root]);

    [Fact]
    public void Get_PciTopology_draws_the_tree_with_groups_and_acs_markers()
    {
        var r = Run("Get-PciTopology -Root $root | Out-Host");
        Assert.Null(r.TerminatingError);
        var text = r.HostText;
        Assert.Contains("[0000:00]", text);
        Assert.Matches(@"00:05\.0\s+5 ACS\+ \[01\]", text);
        Assert.Matches(@"    \\-04:00\.0\s+10\s", text);
        Assert.Matches(@"03:00\.0\s+10 ACS- \[04\]", text);
    }

    [Fact]
    public void Get_PciTopology_with_an_address_gives_the_path_and_the_subtree()
    {
        var r = Run("(Get-PciTopology -Root $root -Address 0000:04:00.0 -IncludeAcs).PciAddress");
        Assert.Equal(["0000:00:07.0", "0000:02:00.0", "0000:03:00.0", "0000:04:00.0"], r.Output.Select(o => o.ToString()));
        var acs = Run("(Get-PciTopology -Root $root -Address 0000:00:0a.0 -IncludeAcs -Depth 0).Acs | ForEach-Object { '{0}|{1}|{2}' -f $_.Present, $_.Control, $_.EffectiveIsolation }");
        Assert.Equal(["True|SrcValid|False"], acs.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void Get_IommuGroup_shows_the_isolation_reason()
    {
        var r = Run("Get-IommuGroup -Root $root -Number 11, 13 | ForEach-Object { '{0}|{1}|{2}' -f $_.Number, $_.IsolationReason, $_.UpstreamBlocker }");
        Assert.Equal(["11|BehindConventionalPciBridge|0000:00:08.0", "13|AcsDisabledOnPort|0000:00:0a.0"], r.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void Reset_PciDevice_refuses_with_stable_ids_and_whatif_writes_nothing()
    {
        var r = Run("Reset-PciDevice -Root $root -Address 0000:00:05.0, 0000:00:02.0, 0000:05:01.0 -Confirm:$false -ErrorVariable e -ErrorAction SilentlyContinue; $e | ForEach-Object { $_.FullyQualifiedErrorId.Split(',')[0] }");
        Assert.Equal(["DeviceIsNotAnEndpoint", "ResetNotSupported", "BusResetAffectsOthers"], r.Output.Select(o => o.ToString()));
        var whatIf = Run("Set-PciResetMethod -Root $root -Address 0000:01:00.0 -Method bus -WhatIf; (Get-PciDevice -Root $root -Address 0000:01:00.0).ResetMethods -join ' '");
        Assert.Equal(["pm bus"], whatIf.Output.Select(o => o.ToString()));
    }
}
