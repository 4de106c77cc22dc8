using PciPassthrough.Host;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Sriov;
using static PciPassthrough.TestSupport.SriovHost;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// Set-PciVirtualFunction's journal: on disk before the first change, gone after the call, and replayed by the next
/// call when a call died, only for the VFs it names that are still the same VF.
/// </summary>
public sealed class VfJournalTests : IDisposable
{
    private const string Vf0Restore = "mac 52:54:00:aa:bb:01 vlan 100 qos 3 proto 802.1Q max_tx_rate 1000 min_tx_rate 0 spoofchk on state auto trust off";
    private readonly FakeHost _host = SriovHost.Create();
    private readonly HostSession _session;
    private readonly List<string> _log = [];
    private readonly List<string> _warnings = [];

    public VfJournalTests()
    {
        var root = new HostRoot(_host.Root);
        _session = new HostSession(root, new Sysfs.PciDeviceReader(root, PciIdDatabase.Empty));
    }

    public void Dispose() => _host.Dispose();

    private string JournalFile => Path.Combine(_host.Root, "run/pcipassthrough/vf-journal");

    private VirtualFunctionConfigurator Configurator(FakeIp ip) => new(_session, IpCommand.At(ip.Executable), TimeSpan.FromSeconds(10), CancellationToken.None);

    private static VirtualFunctionConfigurationStep Step(FakeIp ip, HostSession session, string vf, VirtualFunctionSettings s) =>
        VirtualFunctionConfigurator.Plan(new VirtualFunctionReader(session) { Ip = IpCommand.At(ip.Executable), IncludeNetworkConfiguration = true }.Resolve(vf)[0], s);

    private static string[] Sets(FakeIp ip) => ip.Calls.Where(c => c.StartsWith("[link][set]", StringComparison.Ordinal)).ToArray();

    [Fact]
    public void The_journal_holds_every_vfs_previous_values_during_the_call_and_is_gone_after_it()
    {
        using var ip = new FakeIp("igb-vfs.json");
        // The fake ip copies the journal when it is asked to change a VF: what a crash at that moment would leave.
        var script = File.ReadAllText(ip.Executable);
        File.WriteAllText(ip.Executable, script[..script.LastIndexOf("exit 0", StringComparison.Ordinal)] + $"cat '{JournalFile}' >> '{ip.Dir}/seen' 2>/dev/null\nexit 0\n");
        Configurator(ip).Apply([Step(ip, _session, IgbVf0, new(VlanId: 7)), Step(ip, _session, IgbVf1, new(VlanId: 7))], _log.Add);

        var seen = File.ReadAllText(Path.Combine(ip.Dir, "seen"));
        Assert.StartsWith(
            $"{IgbVf0}\t{IgbPf}\tenp2s0f0\t0\t{Vf0Restore}\n" +
            $"{IgbVf1}\t{IgbPf}\tenp2s0f0\t1\tmac 00:00:00:00:00:00 vlan 0 max_tx_rate 0 min_tx_rate 0 spoofchk off state enable trust on\n",
            seen, StringComparison.Ordinal);
        Assert.False(File.Exists(JournalFile));
    }

    [Fact]
    public void A_journal_left_by_a_dead_call_is_replayed_first_for_the_vfs_it_names_that_are_still_the_same()
    {
        _host.WriteFile("run/pcipassthrough/vf-journal", $"{IgbVf0}\t{IgbPf}\tenp2s0f0\t0\t{Vf0Restore}\n{IgbVf1}\t{IgbPf}\tenp2s0f0\t5\tvlan 9\n");
        using var ip = new FakeIp("igb-vfs.json");
        var configurator = Configurator(ip);
        Assert.Equal([IgbVf0, IgbVf1], configurator.ReadJournal().Select(e => e.PciAddress));
        configurator.Apply([Step(ip, _session, IgbVf1, new(Trust: false))], _log.Add, _warnings.Add);

        Assert.Equal(["[link][set][dev][enp2s0f0][vf][0][" + Vf0Restore.Replace(" ", "][", StringComparison.Ordinal) + "]", "[link][set][dev][enp2s0f0][vf][1][trust][off]"], Sets(ip));
        Assert.Contains(_warnings, w => w.Contains("did not finish", StringComparison.Ordinal));
        Assert.Contains($"{IgbVf1}: no longer VF 5 of {IgbPf} (enp2s0f0); not restored.", _warnings);
        Assert.False(File.Exists(JournalFile));
    }

    [Fact]
    public void A_restore_that_fails_keeps_the_journal_and_stops_the_call_before_its_own_changes()
    {
        _host.WriteFile("run/pcipassthrough/vf-journal", $"{IgbVf0}\t{IgbPf}\tenp2s0f0\t0\tvlan 100\n");
        using var ip = new FakeIp("igb-vfs.json", failWhen: "vlan 100");
        var e = Assert.Throws<PciPassthroughException>(() => Configurator(ip).Apply([Step(ip, _session, IgbVf1, new(Trust: true))], _log.Add, _warnings.Add));
        Assert.Equal(ErrorIds.VirtualFunctionConfigurationFailed, e.ErrorId);
        Assert.Equal(["[link][set][dev][enp2s0f0][vf][0][vlan][100]"], Sets(ip));
        Assert.True(File.Exists(JournalFile));
    }

    [Fact]
    public void An_unreadable_journal_changes_nothing_and_clearing_it_restores_nothing()
    {
        _host.WriteFile("run/pcipassthrough/vf-journal", $"{IgbVf0}\t{IgbPf}\tenp2s0f0\t0\tmac $(reboot)\n");
        using var ip = new FakeIp("igb-vfs.json");
        var configurator = Configurator(ip);
        var e = Assert.Throws<PciPassthroughException>(() => configurator.Apply([Step(ip, _session, IgbVf1, new(Trust: true))], _log.Add));
        Assert.Equal(ErrorIds.VirtualFunctionJournalUnreadable, e.ErrorId);
        Assert.Empty(Sets(ip));

        Assert.Empty(configurator.ClearJournal(_log.Add));
        Assert.False(File.Exists(JournalFile));
        Assert.Contains(_log, l => l.Contains("cannot be read", StringComparison.Ordinal));
        Assert.Empty(Sets(ip));
    }
}
