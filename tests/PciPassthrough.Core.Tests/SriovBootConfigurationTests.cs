using PciPassthrough.Host;
using PciPassthrough.HostConfig;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Iommu;
using PciPassthrough.Readiness;
using PciPassthrough.Sriov;
using static PciPassthrough.TestSupport.SriovHost;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// Set-VfioHostConfiguration's boot-time SR-IOV entries on SriovHost (planned from the host and a fake ip), the
/// file's round trip, the drift checks of Test-VfioHostConfiguration and the readiness audit of a boot-bound VF.
/// </summary>
public sealed class SriovBootConfigurationTests : IDisposable
{
    private readonly FakeHost _host = SriovHost.Create();
    private readonly HostRoot _root;

    public SriovBootConfigurationTests()
    {
        _root = new HostRoot(_host.Root);
        foreach (var dir in new[] { "usr/local/bin", "etc/systemd/system", "etc/sysconfig" })
        {
            Directory.CreateDirectory(Path.Combine(_host.Root, dir)); // a real host has them
        }
    }

    public void Dispose() => _host.Dispose();

    private HostSession Session() => new(_root, new Sysfs.PciDeviceReader(_root, PciIdDatabase.Empty));

    private static HostConfigurationRequest Request(Dictionary<string, string>? counts = null, bool persist = false, string[]? remove = null, FakeIp? ip = null) => new()
    {
        KernelCommandLine = false,
        Initramfs = InitramfsKind.None,
        VirtualFunctionCounts = counts ?? [],
        PersistVirtualFunctions = persist,
        RemoveVirtualFunctionCounts = remove ?? [],
        Ip = ip is null ? null : IpCommand.At(ip.Executable),
    };

    private IReadOnlyList<ConfigFileChange> Plan(HostConfigurationRequest request, List<string>? warnings = null) =>
        VfioHostConfigurator.Plan(Session(), request, w => warnings?.Add(w));

    private static string Body(IReadOnlyList<ConfigFileChange> plan) =>
        string.Join("", plan.Single(c => c.Path == SriovBootConfiguration.Path).NewContent.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => l + "\n"));

    [Fact]
    public void Counts_are_written_with_the_pfs_ids_autoprobe_off_and_the_vfs_attributes_that_differ_from_the_defaults()
    {
        using var ip = new FakeIp("igb-vfs.json");
        var plan = Plan(Request(new() { [IgbPf] = "2", ["08:00.0"] = "Max" }, ip: ip));
        Assert.Equal([SriovBootConfiguration.Path, SriovBootService.ScriptPath, SriovBootService.UnitPath], plan.Select(c => c.Path));
        Assert.Equal(
            "pf 0000:02:00.0 8086:1521 2 0\n" +
            "vf 0000:02:00.0 0 mac 52:54:00:aa:bb:01 vlan 100 qos 3 max_tx_rate 1000\n" +
            "vf 0000:02:00.0 1 spoofchk off state enable trust on\n" +
            "pf 0000:08:00.0 1b36:0010 4 0\n",
            Body(plan));
        Assert.Contains(plan, c => c.Path == SriovBootService.UnitPath && c.NewContent.Contains("Before=network-pre.target vfio-bind.service", StringComparison.Ordinal));
        Assert.Contains($"systemctl daemon-reload && systemctl enable {SriovBootService.UnitName}", VfioHostConfigurator.FollowUpCommands(_root, plan));
    }

    [Fact]
    public void The_file_reads_back_as_written_and_a_second_run_changes_nothing()
    {
        using var ip = new FakeIp("igb-vfs.json");
        var request = Request(new() { [IgbPf] = "2", [NvmePf] = "3" }, ip: ip) with { VirtualFunctionDriversAutoprobe = true };
        ConfigFiles.ApplyAll(Plan(request), DateTime.UtcNow);
        var entries = SriovBootConfiguration.Read(_root);
        Assert.Equal([(IgbPf, 2, true, 2), (NvmePf, 3, true, 0)], entries.Select(e => (e.PciAddress, e.NumVfs, e.DriversAutoprobe, e.VirtualFunctions.Length)));
        Assert.Equal(new VirtualFunctionSettings("52:54:00:aa:bb:01", 100, 3, null, null, null, null, 1000, null), entries[0].VirtualFunctions[0].Settings);
        Assert.All(Plan(request), c => Assert.Equal(FileAction.Unchanged, c.Action));
        var config = VfioHostConfiguration.Read(_root);
        Assert.Equal([IgbPf, NvmePf], config.VirtualFunctionCounts.Select(e => e.PciAddress));
        Assert.True(config.SriovUnitPresent);
    }

    [Fact]
    public void Persisting_takes_every_pf_with_vfs_as_it_runs_and_removing_drops_only_the_pf_named()
    {
        _host.WriteFile(SriovBootConfiguration.Path[1..], "pf 0000:08:00.0 1b36:0010 4 0\npf 0000:09:00.0 1b36:0010 1 0\n");
        var warnings = new List<string>();
        var plan = Plan(Request(persist: true, remove: ["0000:09:00.0"]), warnings);
        Assert.Equal("pf 0000:02:00.0 8086:1521 2 1\npf 0000:08:00.0 1b36:0010 4 0\n", Body(plan));
        Assert.Contains(warnings, w => w.Contains("not persisted", StringComparison.Ordinal)); // no ip: no attributes, said so
    }

    [Theory]
    [InlineData(Plain, "2", "NotAnSriovPhysicalFunction")]
    [InlineData(IgbVf0, "2", "NotAnSriovPhysicalFunction")]
    [InlineData(NvidiaPf, "2", "NvidiaUseSriovManage")]
    [InlineData(NvmePf, "5", "VirtualFunctionCountOutOfRange")]
    [InlineData(NvmePf, "-1", "VirtualFunctionCountOutOfRange")]
    [InlineData(NvmePf, "two", "VirtualFunctionCountOutOfRange")]
    [InlineData("0000:77:00.0", "2", "PciDeviceNotFound")]
    public void Counts_no_boot_could_create_are_refused_before_anything_is_planned(string address, string count, string id)
    {
        var e = Assert.Throws<PciPassthroughException>(() => Plan(Request(new() { [address] = count })));
        Assert.Equal(id, e.ErrorId);
    }

    [Theory]
    [InlineData("pf 0000:08:00.0 1b36:0010 4\n")]
    [InlineData("pf 0000:08:00.0 1b36:0010 4 yes\n")]
    [InlineData("pf 0000:08:00.0 1b36:0010 4 0\nvf 0000:08:00.0 0 mac $(reboot)\n")]
    [InlineData("pf 0000:08:00.0 1b36:0010 4 0\nvf 0000:08:00.0 0 mac 01:00:5e:00:00:01\n")]
    [InlineData("pf 0000:08:00.0 1b36:0010 4 0\nvf 0000:08:00.0 0 vlan\n")]
    [InlineData("modprobe evil\n")]
    public void A_file_the_script_would_not_understand_is_refused_and_reported_as_drift(string content)
    {
        _host.WriteFile(SriovBootConfiguration.Path[1..], content);
        Assert.Equal(ErrorIds.ConfigFileInvalid, Assert.Throws<PciPassthroughException>(() => Plan(Request(new() { [NvmePf] = "2" }))).ErrorId);
        var checks = HostConfigurationDrift.Check(_root, Session().Devices).Where(c => c.Name.StartsWith("Sriov", StringComparison.Ordinal)).ToList();
        Assert.All(checks, c => Assert.Equal(CheckStatus.Fail, c.Status));
        Assert.Empty(VfioHostConfiguration.Read(_root).VirtualFunctionCounts);
    }

    [Fact]
    public void Drift_names_a_count_the_host_does_not_run_with_and_a_card_that_changed()
    {
        ConfigFiles.ApplyAll(Plan(Request(new() { [IgbPf] = "2", [NvmePf] = "4" })), DateTime.UtcNow);
        _host.WriteFile(SriovBootConfiguration.Path[1..], File.ReadAllText(Path.Combine(_host.Root, SriovBootConfiguration.Path[1..])) + "pf 0000:09:00.0 1b36:0011 1 0\n");
        var checks = HostConfigurationDrift.Check(_root, Session().Devices).ToDictionary(c => c.Name);
        Assert.Equal(CheckStatus.Warning, checks["SriovCountDrift"].Status);
        Assert.Equal("0000:02:00.0's VFs were created with sriov_drivers_autoprobe 1, the boot sets 0; 0000:08:00.0 has 0 VFs, the boot creates 4.", checks["SriovCountDrift"].Detail);
        Assert.Equal(CheckStatus.Warning, checks["SriovIdentityDrift"].Status);
        Assert.Equal("0000:09:00.0 is now 1b36:0010, not the 1b36:0011 it was configured for: the boot skips it.", checks["SriovIdentityDrift"].Detail);
        Assert.NotNull(checks["SriovCountDrift"].Remedy);

        // The host made to match: no drift.
        _host.WriteFile(SriovBootConfiguration.Path[1..], "pf 0000:02:00.0 8086:1521 2 1\npf 0000:08:00.0 1b36:0010 0 0\n");
        checks = HostConfigurationDrift.Check(_root, Session().Devices).ToDictionary(c => c.Name);
        Assert.Equal((CheckStatus.Pass, CheckStatus.Pass), (checks["SriovCountDrift"].Status, checks["SriovIdentityDrift"].Status));
        File.Delete(Path.Combine(_host.Root, SriovBootService.UnitPath[1..]));
        Assert.Contains("nothing creates the VFs at boot", HostConfigurationDrift.Check(_root, Session().Devices).Single(c => c.Name == "SriovCountDrift").Detail);
    }

    [Fact]
    public void A_vf_bound_at_boot_needs_its_pfs_vfs_created_at_boot_first()
    {
        _host.WriteFile("etc/sysconfig/vfio-bind", $"DEVICES=\"{IgbVf1}\"\n");
        ReadinessCheck BindsAtBoot() => new PassthroughReadinessInspector(Session()).Assess(Session().Devices.Require(IgbVf1)).Findings.Single(f => f.Name == "BindsAtBoot");

        var finding = BindsAtBoot();
        Assert.Equal(CheckStatus.Warning, finding.Status);
        Assert.Contains("whose VFs nothing creates at boot", finding.Detail);
        Assert.Contains($"Set-VfioHostConfiguration -VirtualFunctionCount @{{ '{IgbPf}' = 2 }}", finding.Remedy);

        _host.WriteFile(SriovBootConfiguration.Path[1..], $"pf {IgbPf} 8086:1521 1 0\n");
        Assert.Contains("it is VF 1 of 0000:02:00.0, and the boot creates only 1 VFs there", BindsAtBoot().Detail);

        _host.WriteFile(SriovBootConfiguration.Path[1..], $"pf {IgbPf} 8086:1521 2 0\n");
        Assert.Equal(CheckStatus.Pass, BindsAtBoot().Status);
    }
}
