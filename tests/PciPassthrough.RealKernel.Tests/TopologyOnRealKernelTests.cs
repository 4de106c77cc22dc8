namespace PciPassthrough.RealKernel.Tests;

/// <summary>Get-PciTopology, the isolation reasons and resets against the guest's PCIe tree (tests/RealKernel/boot.sh).</summary>
[Collection(GuestDefinition.Name)]
public class TopologyOnRealKernelTests(GuestFixture guest)
{
    private static readonly string[] AcsNames = ["SrcValid", "TransBlk", "ReqRedir", "CmpltRedir", "UpstreamFwd", "EgressCtrl", "DirectTrans"];

    private ScenarioResult Run(string name)
    {
        var r = guest.Scenario(name);
        Assert.True(r.Terminating is null, $"{name}: {r.Terminating}");
        return r;
    }

    private Dictionary<string, string[]> Nodes() => Run("topology").Output
        .Where(l => l.StartsWith("node=", StringComparison.Ordinal))
        .Select(l => l[5..].Split('|'))
        .ToDictionary(f => f[0]);

    private static string Value(IEnumerable<string> lines, string key) => lines.Single(l => l.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..];

    [RealKernelFact]
    public void The_tree_has_the_parents_lspci_shows()
    {
        var nodes = Nodes();
        var paths = Run("topology-lspci").Output.Where(l => l.StartsWith("pp=", StringComparison.Ordinal)).Select(l => l[3..].Split('/')).ToList();
        Assert.NotEmpty(paths);
        Assert.Equal(paths.Select(p => p.Length == 1 ? p[0] : "0000:" + p[^1]).Order(), nodes.Keys.Order());
        foreach (var p in paths)
        {
            var address = p.Length == 1 ? p[0] : "0000:" + p[^1];
            var parent = p.Length == 1 ? "" : p.Length == 2 ? p[0] : "0000:" + p[^2];
            Assert.True(parent == nodes[address][1], $"{address}: parent '{nodes[address][1]}', lspci -PP says '{parent}'");
        }
    }

    [RealKernelFact]
    public void Ports_bridges_and_bus_ranges_are_recognised()
    {
        var nodes = Nodes();
        Assert.Equal("RootPort", nodes["0000:00:05.0"][2]);
        Assert.Equal("SwitchUpstream", nodes["0000:03:00.0"][2]);
        Assert.Equal("SwitchDownstream", nodes["0000:04:00.0"][2]);
        Assert.Equal("PciePciBridge", nodes["0000:00:08.0"][2]);
        Assert.Equal("Endpoint", nodes["0000:05:00.0"][2]);
        Assert.Equal("Endpoint", nodes["0000:06:01.0"][2]);
        Assert.Equal("HostBridge", nodes["0000:00:00.0"][2]);
        Assert.Equal(["3", "5"], nodes["0000:00:07.0"][5..7]);
        Assert.Equal(["6", "6"], nodes["0000:00:08.0"][5..7]);
        Assert.Equal("1", nodes["0000:01:00.0"][7]);
        Assert.Equal(@"    \-05:00.0", nodes["0000:05:00.0"][9]);
        Assert.Equal(@"+-06:01.0", nodes["0000:06:01.0"][9]);
        Assert.Equal("00:07.0", nodes["0000:00:07.0"][9]);
        var r = Run("topology").Output;
        Assert.Equal("0", Value(r, "warnings")); // root in the guest reads extended config space
        Assert.Equal("0000:00:07.0,0000:03:00.0,0000:04:00.0,0000:05:00.0", Value(r, "sub"));
        Assert.Equal("0", Value(r, "depth0"));
    }

    [RealKernelFact]
    public void The_acs_words_and_markers_agree_with_lspci()
    {
        var nodes = Nodes();
        Assert.Equal("ACS+", nodes["0000:00:05.0"][4]);
        Assert.Equal("ACS-", nodes["0000:00:06.0"][4]); // boot.sh's pci=disable_acs_redir= cleared RR and CR
        Assert.Equal($"True:{0x5f}:{0x11}", nodes["0000:00:06.0"][8]);
        Assert.Equal("ACS+", nodes["0000:03:00.0"][4]); // a single-function upstream port needs none
        Assert.Equal("ACS-", nodes["0000:04:00.0"][4]);
        Assert.Equal("ACS-", nodes["0000:00:08.0"][4]);
        Assert.Equal("ACS-", nodes["0000:00:09.0"][4]);
        foreach (var line in Run("topology-lspci").Output.Where(l => l.StartsWith("lspci-acs=", StringComparison.Ordinal)))
        {
            var f = line[10..].Split('|');
            var expected = f[1].Length == 0 ? "False:0:0" : $"True:{Flags(f[1])}:{Flags(f[2])}";
            Assert.True(expected == nodes[f[0]][8], $"{f[0]}: module {nodes[f[0]][8]}, lspci {line}");
        }
    }

    private static int Flags(string lspci) => AcsNames.Select((n, i) => lspci.Contains(n + "+", StringComparison.Ordinal) ? 1 << i : 0).Sum();

    [RealKernelFact]
    public void Each_kind_of_shared_group_is_explained()
    {
        var groups = Run("isolation").Output.Where(l => l.StartsWith("group=", StringComparison.Ordinal)).Select(l => l[6..].Split('|')).ToList();
        string[] Of(string member) => groups.Single(g => g[3].Split(',').Contains(member));
        Assert.Equal(["BehindPortWithoutAcs", "0000:04:00.0", "0000:04:00.0,0000:05:00.0"], Of("0000:05:00.0")[1..]);
        Assert.Equal(["BehindConventionalPciBridge", "0000:00:08.0", "0000:00:08.0,0000:06:01.0,0000:06:02.0"], Of("0000:06:01.0")[1..]);
        Assert.Equal(["BehindPortWithoutAcs", "0000:00:09.0", "0000:00:09.0,0000:07:00.0"], Of("0000:07:00.0")[1..]);
        Assert.Equal(["SharedMultifunction", "", "0000:00:1f.0,0000:00:1f.2,0000:00:1f.3"], Of("0000:00:1f.2")[1..]);
        Assert.Equal(["OwnGroup", "", "0000:01:00.0"], Of("0000:01:00.0")[1..]);
        var findings = Run("isolation").Output.Where(l => l.StartsWith("finding=", StringComparison.Ordinal)).ToList();
        Assert.Contains(findings, l => l.StartsWith("finding=0000:06:01.0|GroupIsolation=Warning|", StringComparison.Ordinal) && l.Contains("BehindConventionalPciBridge 0000:00:08.0", StringComparison.Ordinal));
        Assert.Contains(findings, l => l.StartsWith("finding=0000:05:00.0|ResetCapability=Warning|Only pm bus", StringComparison.Ordinal));
    }

    [RealKernelFact]
    public void Disable_acs_redir_merges_the_ports_group_and_is_explained_and_warned_about()
    {
        var r = Run("isolation").Output;
        Assert.Equal("pci=disable_acs_redir=0000:00:06.0", Value(r, "cmdline"));
        var group = r.Where(l => l.StartsWith("group=", StringComparison.Ordinal)).Select(l => l[6..].Split('|')).Single(g => g[3].Split(',').Contains("0000:02:00.0"));
        Assert.Equal(["AcsDisabledOnPort", "0000:00:06.0", "0000:00:06.0,0000:02:00.0"], group[1..]);
        Assert.Contains(r, l => l.StartsWith("finding=0000:02:00.0|GroupIsolation=Pass|Alone in IOMMU group 6 but for the bridge 0000:00:06.0", StringComparison.Ordinal) && l.Contains("AcsDisabledOnPort 0000:00:06.0", StringComparison.Ordinal) && l.Contains("ReqRedir, CmpltRedir", StringComparison.Ordinal));
        Assert.Contains(r, l => l.StartsWith("finding=0000:02:00.0|AcsOverride=Warning|", StringComparison.Ordinal) && l.Contains("pci=disable_acs_redir=0000:00:06.0", StringComparison.Ordinal));
        Assert.StartsWith("Warning|The kernel command line holds pci=disable_acs_redir=0000:00:06.0", Value(r, "support"), StringComparison.Ordinal);
        Assert.Equal("1|True", Value(r, "group-warning"));
    }

    [RealKernelFact]
    public void Reset_subordinate_resets_below_a_port_and_refuses_when_a_device_below_is_held()
    {
        var r = Run("reset-subordinate").Output;
        Assert.Equal("True|0000:05:00.0|e1000e", Value(r, "below-downstream"));
        Assert.Equal("True|0000:03:00.0,0000:04:00.0,0000:05:00.0|e1000e", Value(r, "below-root"));
        Assert.Equal("ResetFailed|e1000e", Value(r, "below-rootport")); // the kernel's EIO on QEMU's root port
        Assert.Equal("DeviceIsNotAnEndpoint", Value(r, "without-switch"));
        Assert.Equal("ResetNotSupported", Value(r, "endpoint"));
        Assert.Equal("DeviceInUse|True|True", Value(r, "held"));
        Assert.Equal("e1000e", Value(r, "released"));
    }

    [RealKernelFact]
    public void Reset_method_reads_and_writes_as_the_kernel_defines_them()
    {
        var r = Run("reset-methods").Output;
        Assert.Equal("pm bus|True", Value(r, "device"));
        Assert.Equal("pm bus", Value(r, "raw"));
        Assert.Equal("bus", Value(r, "bus"));
        Assert.Equal("ResetMethodUnsupported|bus", Value(r, "flr")); // EINVAL: the e1000e has no FLR
        Assert.Equal("[]|0|False", Value(r, "disabled"));             // the newline disables
        Assert.Equal("ResetNotSupported", Value(r, "reset-disabled"));
        Assert.Equal("pm bus", Value(r, "default"));
        Assert.Equal("pm bus", Value(r, "whatif"));
        Assert.Contains("methods=0000:00:02.0||False", r);             // an e1000 on the root bus has no reset
        Assert.Contains("methods=0000:00:08.0|pm|True", r);
    }

    [RealKernelFact]
    public void An_e1000e_is_reset_and_unsafe_resets_are_refused()
    {
        var r = Run("reset").Output;
        Assert.Equal("True|pm bus|e1000e", Value(r, "reset"));
        Assert.Equal("ResetFailed|pm bus", Value(r, "reset-bus")); // ENOTTY from the kernel; reset_method restored
        Assert.Equal("True|pm|pm bus", Value(r, "reset-pm"));
        Assert.Contains("refused=0000:00:02.0|ResetNotSupported", r);
        Assert.Contains("refused=0000:00:05.0|DeviceIsNotAnEndpoint", r);
        Assert.Contains("refused=0000:06:01.0|BusResetAffectsOthers", r);
        Assert.Equal("DeviceIsHostCritical", Value(r, "vga"));
        Assert.Equal("e1000e|1", Value(r, "link-after"));
    }
}
