using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PciPassthrough.OpenNebula.Templates;

namespace PciPassthrough.Core.Tests;

/// <summary>Render then parse is the identity, for any valid section and any list of them.</summary>
public class PciTemplatePropertyTests
{
    private static readonly Gen<string> HexId =
        Gen.Choose(0, 0xffff).SelectMany(v => Gen.Elements("x1", "x2", "x3", "x4", "X4").Select(f => v.ToString(f).Length > f[1] - '0' ? v.ToString("x4") : v.ToString(f)));

    private static readonly Gen<string> Slot =
        from domain in Gen.Elements(0, 0, 1, 0xffff)
        from bus in Gen.Choose(0, 255)
        from slot in Gen.Choose(0, 31)
        from function in Gen.Choose(0, 7)
        select domain == 0 && bus % 2 == 0 ? $"{bus:x2}:{slot:x2}.{function}" : $"{domain:x4}:{bus:X2}:{slot:x2}.{function}";

    private static readonly Gen<string> Name =
        Gen.Elements("passthrough", "sriov net", "oneadmin", "ñet-1", "a,b]c=d#e[f", "x", "q\"uo\\te\\", "line\nbreak");

    private static Gen<string?> Maybe(Gen<string> g) => Gen.OneOf(Gen.Constant<string?>(null), g.Select(s => (string?)s));

    private static readonly Gen<PciTemplateSection> Section =
        from byAddress in Gen.Elements(true, false, false)
        from slot in Slot
        from vendor in Maybe(HexId)
        from device in Maybe(HexId)
        from cls in HexId
        from keepClass in Gen.Elements(true, false)
        from network in Maybe(Name)
        from uname in Maybe(Name)
        from mac in Maybe(Gen.ArrayOf(Gen.Choose(0, 255), 6).Select(b => string.Join(":", b.Select(x => x.ToString("X2")))))
        from vlan in Maybe(Gen.Choose(0, 4095).Select(v => v.ToString()))
        from spoof in Maybe(Gen.Elements("yes", "NO"))
        from trust in Maybe(Gen.Elements("YES", "no"))
        from ip in Maybe(Gen.ArrayOf(Gen.Choose(0, 255), 4).Select(b => string.Join(".", b)))
        from ip6 in Maybe(Gen.Elements("2001:db8::1", "::1", "fe80::1:2:3"))
        select Build(byAddress, slot, vendor, device, keepClass || (vendor is null && device is null) ? cls : null, network, uname, mac, vlan, spoof, trust, ip, ip6);

    private static PciTemplateSection Build(bool byAddress, string slot, string? vendor, string? device, string? cls, string? network, string? uname, string? mac, string? vlan, string? spoof, string? trust, string? ip, string? ip6)
    {
        var nic = network is not null;
        var attributes = new Dictionary<string, string?>
        {
            ["SHORT_ADDRESS"] = byAddress ? slot : null,
            ["VENDOR"] = byAddress ? null : vendor,
            ["DEVICE"] = byAddress ? null : device,
            ["CLASS"] = byAddress ? null : cls,
            ["NETWORK"] = network,
            ["TYPE"] = nic ? "nic" : null,
            ["NETWORK_UNAME"] = nic ? uname : null,
            ["MAC"] = nic ? mac : null,
            ["VLAN_ID"] = nic ? vlan : null,
            ["SPOOFCHK"] = nic ? spoof : null,
            ["TRUST"] = nic ? trust : null,
            ["IP"] = nic ? ip : null,
            ["IPV6"] = nic ? ip6 : null,
        };
        return PciTemplateSection.FromAttributes(attributes);
    }

    private static List<KeyValuePair<string, string>> Attrs(PciTemplateSection s) => s.Attributes().ToList();

    [Property(MaxTest = 500)]
    public Property Render_then_parse_is_the_identity() =>
        Prop.ForAll(Section.ToArbitrary(), s =>
        {
            var back = Assert.Single(PciTemplateReader.Read(s.ToString()));
            Assert.Equal(Attrs(s), Attrs(back));
            Assert.Equal(s.ToString(), back.ToString());
        });

    [Property(MaxTest = 200)]
    public Property Several_sections_come_back_in_order() =>
        Prop.ForAll(Gen.ListOf(Section).ToArbitrary(), sections =>
        {
            var back = PciTemplateReader.Read("NAME = \"vm\"\n" + PciTemplateSection.Render(sections) + "NIC = [ NETWORK = \"x\" ]\n");
            Assert.Equal(sections.Select(Attrs), back.Select(Attrs));
        });
}
