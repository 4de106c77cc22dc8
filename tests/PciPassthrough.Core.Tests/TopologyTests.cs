using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Iommu;
using PciPassthrough.Sysfs;
using PciPassthrough.Topology;

namespace PciPassthrough.Core.Tests;

public class ConfigSpaceTests
{
    private const int All = 0x5f; // SV TB RR CR UF EC DT as QEMU's root port offers them (no DT): 0x1f | EC

    [Fact]
    public void A_root_port_with_acs_parses_type_link_and_acs_words()
    {
        var c = PciConfigSpace.Parse(ConfigBytes.Pcie(4, headerType: 1, acsCap: 0x1f, acsCtl: 0x1d, linkSpeed: 3, linkWidth: 4, maxSpeed: 4, maxWidth: 16, secondary: 1, subordinate: 1));
        Assert.Equal(ConfigSpaceAccess.Extended, c.Access);
        Assert.Equal(PciePortType.RootPort, c.PortType);
        Assert.Equal([(0x01, 0x40), (0x10, 0x60)], c.Capabilities);
        Assert.Equal(3, c.LinkSpeedCode);
        Assert.Equal(4, c.LinkWidth);
        Assert.Equal(16, c.MaxLinkWidth);
        Assert.Equal("16.0 GT/s PCIe", PciConfigSpace.SpeedText(c.MaxLinkSpeedCode));
        Assert.Equal(1, c.SecondaryBus);
        Assert.True(c.HasAcs);
        Assert.Equal(AcsFeatures.SrcValid | AcsFeatures.TransBlk | AcsFeatures.ReqRedir | AcsFeatures.CmpltRedir | AcsFeatures.UpstreamFwd, c.AcsCapability);
        Assert.Equal([(0x0001, 0x100), (0x000d, 0x148)], c.ExtendedCapabilities);
        Assert.True(AcsState.From(c)!.EffectiveIsolation); // TransBlk is not required
    }

    [Fact]
    public void Only_the_header_is_readable_without_root_and_nothing_is_guessed()
    {
        var c = PciConfigSpace.Parse(ConfigBytes.Pcie(4, headerType: 1, acsCap: 0x1f, acsCtl: 0x1f).AsSpan(0, 64));
        Assert.Equal(ConfigSpaceAccess.HeaderOnly, c.Access);
        Assert.Equal(1, c.HeaderType);
        Assert.Null(c.PortType);
        Assert.Null(c.IsPcie);
        Assert.Null(c.HasAcs);
        Assert.Null(AcsState.From(c));
        Assert.Empty(c.Capabilities);
    }

    [Fact]
    public void Without_extended_space_acs_is_unknown_for_pcie_and_absent_for_conventional()
    {
        Assert.Null(PciConfigSpace.Parse(ConfigBytes.Pcie(0, acsCap: 0x1f, length: 256)).HasAcs);
        Assert.False(PciConfigSpace.Parse(ConfigBytes.Conventional()).HasAcs);
        Assert.False(PciConfigSpace.Parse(ConfigBytes.Conventional()).IsPcie);
        Assert.Equal(ConfigSpaceAccess.Unreadable, PciConfigSpace.Parse(new byte[8]).Access);
    }

    [Fact]
    public void Reset_hints_come_from_devcap_and_pmcsr()
    {
        var nvme = PciConfigSpace.Parse(ConfigBytes.Pcie(0, flr: true, pmNoSoftReset: true));
        Assert.True(nvme.PcieFlr);
        Assert.True(nvme.PmNoSoftReset);
        var e1000e = PciConfigSpace.Parse(ConfigBytes.Pcie(0));
        Assert.False(e1000e.PcieFlr);
        Assert.False(e1000e.PmNoSoftReset);
        Assert.False(e1000e.AfFlr);
    }

    [Fact]
    public void A_looping_capability_list_ends()
    {
        var bytes = ConfigBytes.Pcie(0);
        bytes[0x61] = 0x40; // PCIe -> PM -> PCIe ...
        Assert.Equal(2, PciConfigSpace.Parse(bytes).Capabilities.Count);
    }

    [Theory]
    [InlineData(0x1f, 0x1d, true)]   // all required enabled; TB off does not matter
    [InlineData(0x1f, 0x1c, false)]  // SV off
    [InlineData(0x1f, 0x00, false)]  // nothing enabled
    [InlineData(0x15, 0x15, true)]   // CR not implemented: counts as hard-wired enabled
    [InlineData(0x00, 0x00, true)]   // nothing implemented: all masked (the kernel's rule)
    [InlineData(0x1f, 0x1b, false)]  // RR off
    [InlineData(0x7f, 0x1d, true)]   // EC and DT implemented but not needed
    public void Effective_isolation_masks_by_the_capability_word(int cap, int ctl, bool isolating)
    {
        var acs = AcsState.From(PciConfigSpace.Parse(ConfigBytes.Pcie(4, headerType: 1, acsCap: cap, acsCtl: ctl)))!;
        Assert.Equal(isolating, acs.EffectiveIsolation);
        _ = All;
    }

    [Fact]
    public void A_port_without_acs_is_absent_and_not_isolating()
    {
        var acs = AcsState.From(PciConfigSpace.Parse(ConfigBytes.Pcie(6, headerType: 1)))!;
        Assert.False(acs.Present);
        Assert.False(acs.EffectiveIsolation);
        Assert.Equal(AcsState.Required, acs.Missing);
    }
}

public class TopologyTests
{
    internal static FakeHost Testbed() => TopologyHost.Create();

    private static PciTopology Read(FakeHost host, bool acs = true)
    {
        var root = new HostRoot(host.Root);
        return PciTopology.Read(root, new PciDeviceReader(root, PciIdDatabase.Empty), acs);
    }

    [Fact]
    public void The_tree_follows_the_sysfs_nesting_with_kinds_and_bus_ranges()
    {
        using var host = Testbed();
        var t = Read(host);
        Assert.Equal(["0000:00:00.0", "0000:00:02.0", "0000:00:05.0", "0000:01:00.0", "0000:00:07.0", "0000:02:00.0", "0000:03:00.0", "0000:04:00.0"], t.Ordered.Take(8).Select(n => n.PciAddress));
        var up = t.Find("0000:02:00.0")!;
        Assert.Equal(TopologyNodeKind.SwitchUpstream, up.Kind);
        Assert.Equal("0000:00:07.0", up.Parent);
        Assert.Equal(["0000:03:00.0"], up.Children);
        Assert.Equal((3, 4), (up.SecondaryBus, up.SubordinateBus));
        Assert.Equal(1, up.Depth);
        Assert.Equal(3, t.Find("0000:04:00.0")!.Depth);
        Assert.Equal(TopologyNodeKind.SwitchDownstream, t.Find("0000:03:00.0")!.Kind);
        Assert.Equal(TopologyNodeKind.PciePciBridge, t.Find("0000:00:08.0")!.Kind);
        Assert.Equal(TopologyNodeKind.RootPort, t.Find("0000:00:05.0")!.Kind);
        Assert.Equal(TopologyNodeKind.HostBridge, t.Find("0000:00:00.0")!.Kind);
        Assert.Equal("0000:00", t.Find("0000:04:00.0")!.RootBus);
        Assert.Equal("2.5 GT/s PCIe", t.Find("0000:01:00.0")!.LinkSpeed);
        Assert.Equal(1, t.Find("0000:01:00.0")!.LinkWidth);
        Assert.False(t.ExtendedSpaceUnreadable);
    }

    [Fact]
    public void Ports_show_acs_and_the_kernels_isolation()
    {
        using var host = Testbed();
        var t = Read(host);
        Assert.Equal("ACS+", t.Find("0000:00:05.0")!.AcsMarker);
        Assert.Equal("ACS-", t.Find("0000:03:00.0")!.AcsMarker);
        Assert.Equal("ACS+", t.Find("0000:02:00.0")!.AcsMarker); // a single-function upstream port needs no ACS
        Assert.Equal("ACS-", t.Find("0000:00:08.0")!.AcsMarker);
        Assert.Equal("ACS-", t.Find("0000:00:0a.0")!.AcsMarker);
        Assert.True(t.Find("0000:00:0a.0")!.Acs!.Present);
        Assert.Equal(AcsFeatures.ReqRedir | AcsFeatures.CmpltRedir | AcsFeatures.UpstreamFwd, t.Find("0000:00:0a.0")!.Acs!.Missing);
        Assert.Equal("", t.Find("0000:01:00.0")!.AcsMarker);
        Assert.Null(Read(host, acs: false).Find("0000:00:05.0")!.Acs);
    }

    [Fact]
    public void The_tree_is_drawn_like_lspci()
    {
        using var host = Testbed();
        var t = Read(host);
        PciTopology.Draw(t.Ordered);
        Assert.Equal("00:05.0", t.Find("0000:00:05.0")!.Tree);
        Assert.Equal("\\-01:00.0", t.Find("0000:01:00.0")!.Tree);
        Assert.Equal("    \\-04:00.0", t.Find("0000:04:00.0")!.Tree);
        Assert.Equal("+-05:01.0", t.Find("0000:05:01.0")!.Tree);
        Assert.Equal("\\-05:02.0", t.Find("0000:05:02.0")!.Tree);
    }

    [Fact]
    public void Without_root_only_the_header_is_read_and_acs_is_unknown()
    {
        using var host = new FakeHost();
        var full = ConfigBytes.Pcie(4, 1, acsCap: 0x1f, acsCtl: 0x1f, secondary: 1, subordinate: 1);
        host.Add(new FakeDevice("0000:00:05.0") { ClassCode = 0x060400, HeaderType = 1, Driver = "pcieport", IommuGroup = 5, ConfigBytes = full[..64] });
        host.Add(new FakeDevice("0000:01:00.0") { Parent = "0000:00:05.0", IommuGroup = 5, ConfigBytes = ConfigBytes.Pcie(0)[..64] });
        var t = Read(host);
        Assert.True(t.ExtendedSpaceUnreadable);
        var port = t.Find("0000:00:05.0")!;
        Assert.Equal(TopologyNodeKind.PciBridge, port.Kind);
        Assert.Null(port.IsolatesBelow);
        Assert.Null(port.Acs);
        Assert.Equal(1, port.SecondaryBus);

        var root = new HostRoot(host.Root);
        var group = new IommuGroupReader(root, new PciDeviceReader(root, PciIdDatabase.Empty)).Read(5)!;
        Assert.Equal(IsolationReason.KernelQuirkOrUnknown, group.IsolationReason);
        Assert.Contains("not readable", group.IsolationDetail);
    }

    [Theory]
    [InlineData(2, IsolationReason.OwnGroup, null)]
    [InlineData(7, IsolationReason.OwnGroup, null)]
    [InlineData(10, IsolationReason.BehindPortWithoutAcs, "0000:03:00.0")]
    [InlineData(11, IsolationReason.BehindConventionalPciBridge, "0000:00:08.0")]
    [InlineData(12, IsolationReason.BehindPortWithoutAcs, "0000:00:09.0")]
    [InlineData(13, IsolationReason.AcsDisabledOnPort, "0000:00:0a.0")]
    [InlineData(6, IsolationReason.SharedMultifunction, null)]
    public void Each_group_is_explained(int number, IsolationReason reason, string? blocker)
    {
        using var host = Testbed();
        var root = new HostRoot(host.Root);
        var group = new IommuGroupReader(root, new PciDeviceReader(root, PciIdDatabase.Empty)).Read(number)!;
        Assert.Equal(reason, group.IsolationReason);
        Assert.Equal(blocker, group.UpstreamBlocker);
        Assert.NotNull(group.IsolationDetail);
        Assert.Equal(reason == IsolationReason.OwnGroup, group.IsolationRemedy is null);
    }

    [Fact]
    public void A_group_that_acs_does_not_explain_is_left_to_the_kernel()
    {
        using var host = Testbed();
        host.Add(new FakeDevice("0000:00:03.0") { Driver = "e1000", IommuGroup = 2, ConfigBytes = ConfigBytes.Conventional() });
        var root = new HostRoot(host.Root);
        var group = new IommuGroupReader(root, new PciDeviceReader(root, PciIdDatabase.Empty)).Read(2)!;
        Assert.Equal(IsolationReason.KernelQuirkOrUnknown, group.IsolationReason);
    }

    [Theory]
    [InlineData("BOOT_IMAGE=/vmlinuz root=/dev/sda1 intel_iommu=on", "")]
    [InlineData("quiet pcie_acs_override=downstream,multifunction", "pcie_acs_override=downstream,multifunction")]
    [InlineData("pci=noaer,config_acs=xx110x0@0000:00:01.0", "pci=noaer,config_acs=xx110x0@0000:00:01.0")]
    [InlineData("intel_iommu=on pci=disable_acs_redir=0000:00:06.0", "pci=disable_acs_redir=0000:00:06.0")]
    public void Acs_overrides_on_the_command_line_are_reported(string cmdline, string expected)
    {
        using var host = new FakeHost();
        host.WriteFile("proc/cmdline", cmdline + "\n");
        var words = AcsOverrideParameters.Find(new HostRoot(host.Root));
        Assert.Equal(expected, string.Join(" ", words));
        Assert.Equal(expected.Length > 0, AcsOverrideParameters.Warning(words) is not null);
    }

    [Fact]
    public void Test_IommuSupport_warns_about_an_acs_parameter_without_failing()
    {
        using var host = TopologyHost.Create();
        host.WriteFile("proc/cmdline", "intel_iommu=on pci=disable_acs_redir=0000:00:06.0\n");
        var report = IommuSupportInspector.Inspect(new HostRoot(host.Root));
        var check = report.Checks.Single(c => c.Name == "AcsOverride");
        Assert.Equal(CheckStatus.Warning, check.Status);
        Assert.Contains("pci=disable_acs_redir=0000:00:06.0", check.Detail);
        Assert.Contains("disable_acs_redir= turn ACS off", check.Detail);
        host.WriteFile("proc/cmdline", "intel_iommu=on\n");
        Assert.DoesNotContain(IommuSupportInspector.Inspect(new HostRoot(host.Root)).Checks, c => c.Name == "AcsOverride");
    }
}
