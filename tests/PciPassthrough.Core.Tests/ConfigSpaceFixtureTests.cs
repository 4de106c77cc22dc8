using System.Globalization;
using System.Text.RegularExpressions;
using PciPassthrough.Topology;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// The config-space parser against real config files captured in the testbed guest (ConfigSpace/README.md),
/// checked against lspci -vvv of the same boot: capability offsets, PCIe port type, link, FLR, PM
/// NoSoftRst, bus range and the ACS words.
/// </summary>
public partial class ConfigSpaceFixtureTests
{
    public static TheoryData<string> Fixtures { get; } = new(Directory.GetFiles(Dir, "*.config").Select(f => Path.GetFileNameWithoutExtension(f)).Order());

    private static string Dir => Path.Combine(RepoPaths.Root, "tests", "PciPassthrough.Core.Tests", "ConfigSpace");

    private static PciConfigSpace Parse(string name) => PciConfigSpace.Parse(File.ReadAllBytes(Path.Combine(Dir, name + ".config")));

    private static string[] Lspci(string name) => File.ReadAllLines(Path.Combine(Dir, name + ".lspci.txt"));

    [Fact]
    public void Every_device_the_readme_names_is_captured()
    {
        Assert.Equal(9, Fixtures.Count);
        foreach (var name in Fixtures)
        {
            Assert.True(File.Exists(Path.Combine(Dir, name + ".lspci.txt")), name);
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void The_capability_lists_are_the_ones_lspci_walks(string name)
    {
        var c = Parse(name);
        var standard = Lspci(name).Select(l => StandardCap().Match(l)).Where(m => m.Success).Select(m => Hex(m.Groups[1].Value)).ToList();
        var extended = Lspci(name).Select(l => ExtendedCap().Match(l)).Where(m => m.Success).Select(m => Hex(m.Groups[1].Value)).ToList();
        Assert.Equal(standard, c.Capabilities.Select(x => x.Offset));
        Assert.Equal(extended, c.ExtendedCapabilities.Select(x => x.Offset));
        Assert.Equal(c.ExtendedCapabilities.Count > 0 || c.IsPcie == true ? ConfigSpaceAccess.Extended : ConfigSpaceAccess.Conventional, c.Access);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Port_type_link_and_bus_range_agree_with_lspci(string name)
    {
        var c = Parse(name);
        var lines = Lspci(name);
        var express = lines.Select(l => Express().Match(l)).FirstOrDefault(m => m.Success);
        Assert.Equal(express is not null, c.IsPcie);
        if (express is not null)
        {
            Assert.Equal(PortTypes[express.Groups[1].Value], c.PortType);
            var (capSpeed, capWidth) = Link(lines, "LnkCap:");
            var (staSpeed, staWidth) = Link(lines, "LnkSta:");
            Assert.Equal((capSpeed, capWidth), (c.MaxLinkSpeedCode, c.MaxLinkWidth));
            Assert.Equal((staSpeed, staWidth), (c.LinkSpeedCode, c.LinkWidth));
        }

        var bus = lines.Select(l => Bus().Match(l)).FirstOrDefault(m => m.Success);
        Assert.Equal(bus is null ? null : Hex(bus.Groups[1].Value), c.SecondaryBus);
        Assert.Equal(bus is null ? null : Hex(bus.Groups[2].Value), c.SubordinateBus);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Reset_capabilities_agree_with_lspci(string name)
    {
        var c = Parse(name);
        var lines = Lspci(name);

        // lspci prints FLReset in DevCap for endpoints only (the second FLReset is DevCtl's initiate bit).
        var devCap = Array.FindIndex(lines, l => l.TrimStart().StartsWith("DevCap:", StringComparison.Ordinal));
        if (devCap >= 0 && lines[devCap + 1].Contains("FLReset", StringComparison.Ordinal))
        {
            Assert.Equal(lines[devCap + 1].Contains("FLReset+", StringComparison.Ordinal), c.PcieFlr);
        }

        var pm = lines.FirstOrDefault(l => l.Contains("NoSoftRst", StringComparison.Ordinal));
        Assert.Equal(pm is null ? null : pm.Contains("NoSoftRst+", StringComparison.Ordinal), c.PmNoSoftReset);

        var af = lines.FirstOrDefault(l => l.TrimStart().StartsWith("AFCap:", StringComparison.Ordinal));
        Assert.Equal(af is not null && af.Contains("FLR+", StringComparison.Ordinal), c.AfFlr);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Acs_words_agree_with_lspci(string name)
    {
        var c = Parse(name);
        var cap = Flags(Lspci(name), "ACSCap:");
        var ctl = Flags(Lspci(name), "ACSCtl:");
        Assert.Equal(cap is not null, c.HasAcs);
        Assert.Equal(cap, c.AcsCapability);
        Assert.Equal(ctl, c.AcsControl);
    }

    [Fact]
    public void The_testbeds_devices_have_the_properties_the_lab_saw()
    {
        // LAB L14/L15 and §3.5 of the reference: these decide isolation and reset on the real kernel.
        Assert.True(AcsState.From(Parse("0000_00_05.0"))!.EffectiveIsolation);
        var redirectsOff = AcsState.From(Parse("0000_00_06.0"))!;
        Assert.True(redirectsOff.Present);
        Assert.Equal(AcsFeatures.ReqRedir | AcsFeatures.CmpltRedir, redirectsOff.Missing);
        Assert.False(Parse("0000_00_09.0").HasAcs);                  // disable-acs=on drops the capability
        Assert.False(Parse("0000_04_00.0").HasAcs);                  // xio3130 downstream port
        Assert.Equal(PciePortType.SwitchDownstream, Parse("0000_04_00.0").PortType);
        Assert.Equal(PciePortType.SwitchUpstream, Parse("0000_03_00.0").PortType);
        Assert.Equal(PciePortType.PcieToPciBridge, Parse("0000_00_08.0").PortType);
        Assert.Equal((true, true), (Parse("0000_08_00.0").PcieFlr, Parse("0000_08_00.0").PmNoSoftReset));   // NVMe: flr
        Assert.Equal((false, false), (Parse("0000_01_00.0").PcieFlr, Parse("0000_01_00.0").PmNoSoftReset)); // e1000e: pm bus
        var conventional = Parse("0000_06_01.0");
        Assert.Equal((ConfigSpaceAccess.Conventional, false, false), (conventional.Access, conventional.IsPcie, conventional.HasAcs));
        Assert.Equal(1, Parse("0000_01_00.0").LinkWidth);
        Assert.Equal("2.5 GT/s PCIe", PciConfigSpace.SpeedText(Parse("0000_01_00.0").LinkSpeedCode));
    }

    private static readonly Dictionary<string, PciePortType> PortTypes = new()
    {
        ["Endpoint"] = PciePortType.Endpoint,
        ["Legacy Endpoint"] = PciePortType.LegacyEndpoint,
        ["Root Port"] = PciePortType.RootPort,
        ["Upstream Port"] = PciePortType.SwitchUpstream,
        ["Downstream Port"] = PciePortType.SwitchDownstream,
        ["PCI-Express to PCI/PCI-X Bridge"] = PciePortType.PcieToPciBridge,
    };

    private static readonly string[] AcsNames = ["SrcValid", "TransBlk", "ReqRedir", "CmpltRedir", "UpstreamFwd", "EgressCtrl", "DirectTrans"];

    private static AcsFeatures? Flags(string[] lines, string key) =>
        lines.FirstOrDefault(l => l.TrimStart().StartsWith(key, StringComparison.Ordinal)) is string line
            ? (AcsFeatures)AcsNames.Select((n, i) => line.Contains(n + "+", StringComparison.Ordinal) ? 1 << i : 0).Sum()
            : null;

    // lspci prints link speeds as "2.5GT/s" ... "64GT/s", or "unknown" for a code it has no name for.
    private static (int Speed, int Width) Link(string[] lines, string key)
    {
        var m = LinkWords().Match(lines.Single(l => l.TrimStart().StartsWith(key, StringComparison.Ordinal)));
        var speed = Array.IndexOf(["2.5GT/s", "5GT/s", "8GT/s", "16GT/s", "32GT/s", "64GT/s"], m.Groups[1].Value) + 1;
        return (speed, int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    private static int Hex(string s) => int.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^\tCapabilities: \[([0-9a-f]{2})\]")]
    private static partial Regex StandardCap();

    [GeneratedRegex(@"^\tCapabilities: \[([0-9a-f]{3}) v\d+\]")]
    private static partial Regex ExtendedCap();

    [GeneratedRegex(@"Express \(v\d\) (.+?)(?: \(Slot[+-]\))?, MSI")]
    private static partial Regex Express();

    [GeneratedRegex(@"Bus: primary=[0-9a-f]{2}, secondary=([0-9a-f]{2}), subordinate=([0-9a-f]{2})")]
    private static partial Regex Bus();

    [GeneratedRegex(@"Speed (\S+?)(?: \(\w+\))?, Width x(\d+)")]
    private static partial Regex LinkWords();
}
