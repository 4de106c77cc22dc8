using PciPassthrough.Host;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Sriov;
using static PciPassthrough.TestSupport.SriovHost;

namespace PciPassthrough.Core.Tests;

/// <summary>The VF network side: ip's JSON parsed defensively, the argv built, and a multi-VF call rolled back, with a fake ip.</summary>
public sealed class VfNetworkTests : IDisposable
{
    private readonly FakeHost _host = SriovHost.Create();
    private readonly HostSession _session;
    private readonly List<string> _log = [];

    public VfNetworkTests()
    {
        var root = new HostRoot(_host.Root);
        _session = new HostSession(root, new Sysfs.PciDeviceReader(root, PciIdDatabase.Empty));
    }

    public void Dispose() => _host.Dispose();

    private static string Fixture(string name) => File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "PciPassthrough.TestSupport", "IpLink", name));

    private VirtualFunctionReader Reader(FakeIp ip) => new(_session) { Ip = IpCommand.At(ip.Executable), IncludeNetworkConfiguration = true };

    [Fact]
    public void A_current_kernels_vf_list_is_parsed_with_omitted_vlan_zero()
    {
        var vfs = VfNetworkState.Parse(Fixture("igb-vfs.json"));
        Assert.Equal(new VfNetworkState(0, "52:54:00:aa:bb:01", 100, 3, "802.1Q", true, false, VirtualFunctionLinkState.Auto, 1000, 0), vfs[0]);
        Assert.Equal(new VfNetworkState(1, "00:00:00:00:00:00", null, null, null, false, true, VirtualFunctionLinkState.Enable, 0, 0), vfs[1]);
    }

    [Fact]
    public void An_old_driver_without_spoofchk_trust_or_rate_leaves_them_null()
    {
        var vfs = VfNetworkState.Parse(Fixture("old-driver.json"));
        Assert.Equal(2, vfs.Count); // the entry without "vf" is skipped
        Assert.Equal(new VfNetworkState(0, "52:54:00:aa:bb:02", 42, 1, "802.1Q", null, null, VirtualFunctionLinkState.Disable, 500, null), vfs[0]);
        Assert.Equal((7, (int?)null, "802.1ad", (VirtualFunctionLinkState?)null), (vfs[1].VlanId!.Value, vfs[1].VlanQos, vfs[1].VlanProtocol, vfs[1].LinkState));
        Assert.Empty(VfNetworkState.Parse("""[{"ifname":"eno1"}]"""));
        Assert.Empty(VfNetworkState.Parse("[]"));
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => VfNetworkState.Parse("RTNETLINK answers"));
    }

    [Fact]
    public void The_reader_asks_ip_once_per_pf_with_argv_and_fills_each_vf()
    {
        using var ip = new FakeIp("igb-vfs.json");
        var vfs = Reader(ip).ReadAll().ToList();
        Assert.Equal(["[-j][-d][link][show][dev][enp2s0f0]"], ip.Calls);
        Assert.Equal(("52:54:00:aa:bb:01", 100, 3, true, false, 1000), (vfs[0].MacAddress, vfs[0].VlanId, vfs[0].VlanQos, vfs[0].SpoofCheck, vfs[0].Trust, vfs[0].MaxTxRateMbps));
        Assert.Equal((VirtualFunctionLinkState?)VirtualFunctionLinkState.Enable, vfs[1].LinkState);
    }

    [Fact]
    public void A_failing_or_missing_ip_leaves_the_network_side_null_with_a_warning()
    {
        var reader = new VirtualFunctionReader(_session) { Ip = null, IncludeNetworkConfiguration = true };
        Assert.All(reader.ReadAll(), v => Assert.Null(v.MacAddress));
        Assert.Contains(reader.Warnings, w => w.Contains("only an 'ip' outside the system directories", StringComparison.Ordinal));
    }

    [Fact]
    public void The_argv_follows_iproute2s_order_and_reset_gives_safe_defaults()
    {
        Assert.Equal(
            ["link", "set", "dev", "enp2s0f0", "vf", "1", "mac", "52:54:00:aa:bb:0c", "vlan", "200", "qos", "5", "proto", "802.1ad", "max_tx_rate", "100", "min_tx_rate", "10", "spoofchk", "off", "state", "disable", "trust", "on"],
            VirtualFunctionConfigurator.Argv("enp2s0f0", 1, new("52:54:00:AA:BB:0C", 200, 5, "802.1ad", false, true, VirtualFunctionLinkState.Disable, 100, 10)));
        Assert.Equal(
            ["link", "set", "dev", "enp2s0f0", "vf", "0", "mac", "00:00:00:00:00:00", "vlan", "0", "max_tx_rate", "0", "min_tx_rate", "0", "spoofchk", "on", "state", "auto", "trust", "off"],
            VirtualFunctionConfigurator.Argv("enp2s0f0", 0, VirtualFunctionSettings.SafeDefaults));
    }

    [Theory]
    [InlineData("01:00:5e:00:00:01", null, null, false, ErrorIds.InvalidMacAddress)]
    [InlineData("00:00:00:00:00:00", null, null, false, ErrorIds.InvalidMacAddress)]
    [InlineData("52-54-00-aa-bb-cc", null, null, false, ErrorIds.InvalidMacAddress)]
    [InlineData(null, 4096, null, false, ErrorIds.InvalidVlanId)]
    [InlineData(null, -1, null, false, ErrorIds.InvalidVlanId)]
    [InlineData(null, null, 3, false, ErrorIds.InvalidVlanId)]
    public void Bad_values_are_refused(string? mac, int? vlan, int? qos, bool reset, string id) =>
        Assert.Equal(id, Assert.Throws<PciPassthroughException>(() => VirtualFunctionConfigurator.Validate(new(mac, vlan, qos), reset)).ErrorId);

    [Fact]
    public void Reset_may_clear_the_mac()
    {
        VirtualFunctionConfigurator.Validate(VirtualFunctionSettings.SafeDefaults, reset: true);
    }

    [Fact]
    public void A_vf_whose_pf_has_no_interface_or_whose_driver_lacks_the_attribute_is_refused()
    {
        _host.WriteFile($"sys/bus/pci/devices/{NvmePf}/sriov_numvfs", "0\n");
        using var ip = new FakeIp("old-driver.json");
        var vfs = Reader(ip).Resolve(IgbPf);
        Assert.Equal(ErrorIds.VirtualFunctionAttributeUnsupported, Assert.Throws<PciPassthroughException>(() => VirtualFunctionConfigurator.Plan(vfs[0], new(SpoofCheck: true))).ErrorId);
        Assert.Equal(ErrorIds.VirtualFunctionAttributeUnsupported, Assert.Throws<PciPassthroughException>(() => VirtualFunctionConfigurator.Plan(vfs[0], new(Trust: false))).ErrorId);
        Assert.Equal("ip link set dev enp2s0f0 vf 0 vlan 9", VirtualFunctionConfigurator.Plan(vfs[0], new(VlanId: 9)).CommandLine);
        var noInterface = new VirtualFunction { PciAddress = "0000:08:00.1", PhysicalFunction = NvmePf, Index = 0 };
        Assert.Equal(ErrorIds.PhysicalFunctionHasNoNetworkInterface, Assert.Throws<PciPassthroughException>(() => VirtualFunctionConfigurator.Plan(noInterface, new(VlanId: 9))).ErrorId);
    }

    [Fact]
    public void A_failing_vf_rolls_the_whole_call_back_newest_first()
    {
        using var ip = new FakeIp("igb-vfs.json", failWhen: "vf 1 vlan 300");
        var vfs = Reader(ip).Resolve(IgbPf);
        var settings = new VirtualFunctionSettings(VlanId: 300, SpoofCheck: true);
        var steps = vfs.Select(v => VirtualFunctionConfigurator.Plan(v, settings)).ToList();
        var configurator = new VirtualFunctionConfigurator(_session, IpCommand.At(ip.Executable), TimeSpan.FromSeconds(10), CancellationToken.None);
        var e = Assert.Throws<PciPassthroughException>(() => configurator.Apply(steps, _log.Add));
        Assert.Equal(ErrorIds.VirtualFunctionConfigurationFailed, e.ErrorId);
        Assert.Contains("previous values again (0000:02:10.4, 0000:02:10.0)", e.Message, StringComparison.Ordinal);
        Assert.Equal(
            [
                "[-j][-d][link][show][dev][enp2s0f0]", // the reader's
                "[-j][-d][link][show][dev][enp2s0f0]", // the journal, under the lock
                "[link][set][dev][enp2s0f0][vf][0][vlan][300][spoofchk][on]",
                "[link][set][dev][enp2s0f0][vf][1][vlan][300][spoofchk][on]",
                "[link][set][dev][enp2s0f0][vf][1][mac][00:00:00:00:00:00][vlan][0][max_tx_rate][0][min_tx_rate][0][spoofchk][off][state][enable][trust][on]",
                "[link][set][dev][enp2s0f0][vf][0][mac][52:54:00:aa:bb:01][vlan][100][qos][3][proto][802.1Q][max_tx_rate][1000][min_tx_rate][0][spoofchk][on][state][auto][trust][off]",
            ],
            ip.Calls);
    }

    [Fact]
    public void Operation_not_supported_from_ip_is_an_unsupported_attribute()
    {
        using var ip = new FakeIp("igb-vfs.json", failWhen: "trust", error: "RTNETLINK answers: Operation not supported");
        var vf = Reader(ip).Resolve(IgbVf0)[0];
        var configurator = new VirtualFunctionConfigurator(_session, IpCommand.At(ip.Executable), TimeSpan.FromSeconds(10), CancellationToken.None);
        var e = Assert.Throws<PciPassthroughException>(() => configurator.Apply([VirtualFunctionConfigurator.Plan(vf, new(Trust: true))], _log.Add));
        Assert.Equal(ErrorIds.VirtualFunctionAttributeUnsupported, e.ErrorId);
    }
}
