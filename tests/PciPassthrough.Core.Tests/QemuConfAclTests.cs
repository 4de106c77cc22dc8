using PciPassthrough.HostConfig;
using PciPassthrough.HostFs;

namespace PciPassthrough.Core.Tests;

/// <summary>cgroup_device_acl rewritten on the qemu.conf shapes that once broke it (D2).</summary>
public class QemuConfAclTests
{
    /// <summary>The list the module writes: libvirt's defaults, then <paramref name="extra"/>, one per line.</summary>
    private static string List(string nl, string[] extra) =>
        "cgroup_device_acl = [" + nl + string.Join("," + nl, QemuConfAcl.LibvirtDefaults.Select(d => $"\"{d}\"").Concat(extra).Select(e => "    " + e)) + nl + "]";

    private static string Acl(params string[] extra) => List("\n", extra);

    private const string Vfio4 = "\"/dev/vfio/vfio\"";
    private const string Group4 = "\"/dev/vfio/4\"";

    public static TheoryData<string, string> Shapes => new()
    {
        // A comment with brackets inside the list (libvirt's parser refuses it there) moves above the setting.
        {
            "cgroup_device_acl = [\n    \"/dev/null\", \"/dev/full\", \"/dev/zero\",   # keep these [see libvirt docs]\n    \"/dev/random\", \"/dev/urandom\", \"/dev/sdc\"\n]\nuser = \"oneadmin\"\n",
            "# keep these [see libvirt docs]\n" + Acl("\"/dev/sdc\"", Vfio4, Group4) + "\nuser = \"oneadmin\"\n"
        },
        // A comment after the list stays where it is.
        { "cgroup_device_acl = [ \"/dev/kvm\" ] # see [docs]\n", Acl(Vfio4, Group4) + " # see [docs]\n" },
        // ']' and '#' inside quoted paths.
        { "cgroup_device_acl = [ \"/dev/null\", \"/dev/disk/by-id/odd]name\", \"/dev/kvm\" ]\n", Acl("\"/dev/disk/by-id/odd]name\"", Vfio4, Group4) + "\n" },
        { "cgroup_device_acl = [ \"/dev/a#b\", \"/dev/kvm\" ]\n", Acl("\"/dev/a#b\"", Vfio4, Group4) + "\n" },
        // Single-quoted entries are kept; a path holding '"' stays single-quoted.
        { "cgroup_device_acl = [ '/dev/null', '/dev/kvm', '/dev/sdd', '/dev/a\"b' ]\n", Acl("\"/dev/sdd\"", "'/dev/a\"b'", Vfio4, Group4) + "\n" },
        // Set twice: libvirt reads the first, which is rewritten; the later one is commented out.
        {
            "cgroup_device_acl = [ \"/dev/null\", \"/dev/sdf\" ]\nuser = \"oneadmin\"\ncgroup_device_acl = [\n    \"/dev/kvm\", \"/dev/sde\"\n]  # old\nsecurity_driver = \"none\"\n",
            Acl("\"/dev/sdf\"", Vfio4, Group4) + "\nuser = \"oneadmin\"\n# PciPassthrough: libvirt reads only the first cgroup_device_acl above.\n#cgroup_device_acl = [\n#    \"/dev/kvm\", \"/dev/sde\"\n#]  # old\nsecurity_driver = \"none\"\n"
        },
        // A foreign string with brackets, a commented-out setting, CRLF line ends.
        {
            "#cgroup_device_acl = [ \"/dev/x\" ]\r\nvnc_listen = \"[::]\"\r\ncgroup_device_acl = [ \"/dev/null\", ]\r\n",
            "#cgroup_device_acl = [ \"/dev/x\" ]\r\nvnc_listen = \"[::]\"\r\n" + List("\r\n", [Vfio4, Group4]) + "\r\n"
        },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_setting_is_rewritten_exactly_and_reads_back_with_every_entry(string conf, string expected)
    {
        var text = QemuConfAcl.Apply(conf, [4], [4]);
        Assert.Equal(expected, text);

        var before = VirConf.Parse(conf).First(s => s.Name == "cgroup_device_acl").Strings!;
        var after = VirConf.Parse(text).Where(s => s.Name == "cgroup_device_acl").ToList();
        Assert.Single(after);
        Assert.All(before, e => Assert.Contains(e, after[0].Strings!));
        Assert.Empty(after[0].Comments);
        Assert.Equal(text, QemuConfAcl.Apply(text, [4], [4]));

        using var host = new FakeHost();
        host.WriteFile("etc/libvirt/qemu.conf", text);
        Assert.Equal(after[0].Strings, QemuConfAcl.Read(new HostRoot(host.Root)).Entries);
    }

    [Theory]
    [InlineData("cgroup_device_acl = [ \"/dev/null\",\n")]
    [InlineData("cgroup_device_acl = [ \"/dev/null\" \"/dev/kvm\" ]\n")]
    [InlineData("cgroup_device_acl = [ \"/dev/null ]\n")]
    [InlineData("cgroup_device_acl = [ 1 ]\n")]
    [InlineData("cgroup_device_acl = \"/dev/null\"\n")]
    [InlineData("cgroup_device_acl = [ \"/dev/null\" ]\nuser = \"a\"; cgroup_device_acl = [ \"/dev/kvm\" ]\n")]
    public void A_setting_that_cannot_be_read_or_rewritten_safely_is_refused(string conf)
    {
        var e = Assert.Throws<PciPassthroughException>(() => QemuConfAcl.Apply(conf, [4], [4]));
        Assert.Equal(ErrorIds.ConfigFileInvalid, e.ErrorId);
    }

    [Fact]
    public void Reading_reports_the_first_setting_the_one_libvirt_uses()
    {
        using var host = new FakeHost();
        host.WriteFile("etc/libvirt/qemu.conf", "cgroup_device_acl = [ '/dev/null', \"/dev/vfio/7\" ]\ncgroup_device_acl = [ \"/dev/kvm\" ]\n");
        var acl = QemuConfAcl.Read(new HostRoot(host.Root));
        Assert.Equal(["/dev/null", "/dev/vfio/7"], acl.Entries);
        Assert.Equal([7], acl.VfioGroups());
        Assert.Null(acl.Error);
    }
}
