using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.OpenNebula;
using PciPassthrough.OpenNebula.Probe;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Core.Tests;

/// <summary>Golden probe output, written by hand from opennebula.md §2 for the fixture hosts.</summary>
public sealed class PciProbeTests : IDisposable
{
    private readonly FakeHost _sample = SampleHost.Create();
    private readonly FakeHost _vgpu = VgpuHost.Create();

    public void Dispose()
    {
        _sample.Dispose();
        _vgpu.Dispose();
    }

    // Every golden test checks the three ways to the output agree: blocks from a full read (the probe reads pci.rb's
    // files by path), blocks from the probe's own read (PciProbe.ReadOptions: what the reader saw), and Write.
    private static string Probe(FakeHost host, PciProbeFilter filter)
    {
        var root = new HostRoot(host.Root);
        var names = PciIdDatabaseLocator.Locate(root, null);
        var byPath = PciProbe.Render(new PciProbe(root, filter).Run(new PciDeviceReader(root, names).ReadAll()));
        var fromReader = PciProbe.Render(new PciProbe(root, filter).Run(new PciDeviceReader(root, names, PciProbe.ReadOptions).ReadAll()));
        var written = new StringWriter();
        new PciProbe(root, filter).Write(new PciDeviceReader(root, names, PciProbe.ReadOptions).ReadAll(), written);
        Assert.Equal(byPath, fromReader);
        Assert.Equal(byPath, written.ToString());
        return byPath;
    }

    private static string Probe(FakeHost host, params string[] filter) => Probe(host, new PciProbeFilter(filter));

    private static PciProbeFilter Conf(string yaml) => new PciPassthrough.Yaml.ProbeFilterYaml().Parse(yaml, "/pci.conf");

    [Fact]
    public void An_empty_filter_is_rubys_nil_and_the_probe_lists_every_device()
    {
        var all = Probe(_sample, "*:*");
        Assert.Contains("PCI = [", all, StringComparison.Ordinal);
        Assert.Equal(all, Probe(_sample, Conf(":filter:\n")));
        Assert.Equal(all, Probe(_sample, Conf(":filter: ~\n")));
    }

    [Fact]
    public void A_value_pci_rb_cannot_use_stops_the_probe_at_the_first_device_that_reaches_its_rule()
    {
        var first = new PciDeviceReader(new HostRoot(_sample.Root), PciIdDatabaseLocator.Locate(new HostRoot(_sample.Root), null)).ReadAll().First().PciAddress;
        var e = Assert.Throws<PciPassthroughException>(() => Probe(_sample, Conf(":filter: '*:*'\n:short_address:\n")));
        Assert.Equal(ErrorIds.ProbeFilterValueUnusable, e.ErrorId);
        Assert.Contains(first, e.Message, StringComparison.Ordinal);

        // As in pci.rb, a rule no device reaches does not stop anything: no device, or none past the earlier rule.
        Assert.Equal("", Probe(_sample, Conf(":short_address:\n")));
        Assert.Equal("", Probe(_sample, Conf(":filter: '*:*'\n:short_address: ['ff:1f.7']\n:device_name: 'T4'\n")));
        Assert.Throws<PciPassthroughException>(() => Probe(_sample, Conf(":filter: '*:*'\n:nvidia_vendors:\n")));
    }

    [Fact]
    public void A_vf_with_an_interface_prints_every_attribute_in_order()
    {
        Assert.Equal(
            """
            PCI = [
             TYPE = "8086:1520:0200" ,
             VENDOR = "8086" ,
             VENDOR_NAME = "Intel Corporation" ,
             DEVICE = "1520" ,
             CLASS = "0200" ,
             CLASS_NAME = "Ethernet controller" ,
             ADDRESS = "0000:02:10:0" ,
             SHORT_ADDRESS = "02:10.0" ,
             DOMAIN = "0000" ,
             BUS = "02" ,
             SLOT = "10" ,
             FUNCTION = "0" ,
             NUMA_NODE = "1" ,
             IFNAME = "enp2s16" ,
             SRIOV = "vf" ,
             DEVICE_NAME = "I350 Ethernet Controller Virtual Function" 
            ]

            """.Replace("\r", ""),
            Probe(_sample, new PciProbeFilter(["8086:1520"], shortAddress: ["02:10.0"])));
    }

    [Fact]
    public void Unknown_ids_lose_their_bracket_and_other_domains_keep_theirs()
    {
        Assert.Equal(
            ProbeGoldens.UnknownAndOtherDomain.Replace("\r", ""),
            Probe(_sample, "abab:*", "144d:*"));
    }

    [Fact]
    public void An_nvidia_card_is_named_with_its_vendor()
    {
        var text = Probe(_sample, "10de:*");
        Assert.Contains(" CLASS_NAME = \"3D controller\" ,\n", text);
        Assert.Contains(" NUMA_NODE = \"0\" ,\n IFNAME = \"-\" ,\n SRIOV = \"no\" ,\n DEVICE_NAME = \"NVIDIA Corporation TU104GL [Tesla T4]\" \n]\n", text);
        Assert.DoesNotContain("UUID", text);
    }

    [Fact]
    public void Filter_entries_concatenate_in_order_and_a_pf_with_vfs_is_skipped()
    {
        var text = Probe(_sample, "8086:1520,*:*:0200", "1234:*");
        var addresses = text.Split('\n').Where(l => l.StartsWith(" SHORT_ADDRESS", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            [" SHORT_ADDRESS = \"02:10.0\" ,", " SHORT_ADDRESS = \"02:10.4\" ,", " SHORT_ADDRESS = \"02:10.0\" ,", " SHORT_ADDRESS = \"02:10.4\" ,", " SHORT_ADDRESS = \"03:00.0\" ,"],
            addresses);
        Assert.Equal(5, text.Split("PCI = [\n").Length - 1);
        Assert.EndsWith("\n]\n", text);
    }

    [Theory]
    [InlineData(new string[0], "")]
    [InlineData(new[] { "0:0" }, "")]
    public void The_default_filter_reports_nothing(string[] filter, string expected)
    {
        Assert.Equal(expected, filter.Length == 0 ? Probe(_sample, new PciProbeFilter()) : Probe(_sample, filter));
    }

    [Fact]
    public void Short_addresses_and_device_names_narrow_as_pci_conf_says()
    {
        static List<string> Slots(string text) => text.Split('\n').Where(l => l.StartsWith(" SHORT_ADDRESS", StringComparison.Ordinal)).Select(l => l.Split('"')[1]).ToList();
        Assert.Equal(["0001:00:00.0"], Slots(Probe(_sample, new PciProbeFilter(["*:*"], shortAddress: ["0001:00:00.0", "05:00.0"]))));
        Assert.Empty(Slots(Probe(_sample, new PciProbeFilter(["*:*"], shortAddress: ["00:00.0".ToUpperInvariant() + "x"]))));
        Assert.Equal(["00:1f.2", "02:10.0", "02:10.4"], Slots(Probe(_sample, new PciProbeFilter(["*:*"], deviceName: ["sata", "VIRTUAL FUNCTION"]))));
        Assert.Equal(["04:00.0"], Slots(Probe(_sample, new PciProbeFilter(["*:*"], deviceName: ["^Device$"]))));
    }

    [Fact]
    public void Nvidia_vgpu_parents_are_skipped_and_their_vfs_carry_uuid_profiles_and_mode()
    {
        Assert.Equal(
            """
            PCI = [
             TYPE = "10de:1eb8:0302" ,
             VENDOR = "10de" ,
             VENDOR_NAME = "NVIDIA Corporation" ,
             DEVICE = "1eb8" ,
             CLASS = "0302" ,
             CLASS_NAME = "3D controller" ,
             ADDRESS = "0000:41:00:4" ,
             SHORT_ADDRESS = "41:00.4" ,
             DOMAIN = "0000" ,
             BUS = "41" ,
             SLOT = "00" ,
             FUNCTION = "4" ,
             NUMA_NODE = "1" ,
             IFNAME = "-" ,
             SRIOV = "vf" ,
             DEVICE_NAME = "NVIDIA vGPU device" ,
             UUID = "e4042b96-e63d-56cf-bcc8-4e6eecccc12e" ,
             PROFILES = "557 (NVIDIA A100-4C),558 (NVIDIA A100-5C)" ,
             MDEV_MODE = "nvidia" 
            ]
            PCI = [
             TYPE = "10de:1eb8:0302" ,
             VENDOR = "10de" ,
             VENDOR_NAME = "NVIDIA Corporation" ,
             DEVICE = "1eb8" ,
             CLASS = "0302" ,
             CLASS_NAME = "3D controller" ,
             ADDRESS = "0000:41:00:5" ,
             SHORT_ADDRESS = "41:00.5" ,
             DOMAIN = "0000" ,
             BUS = "41" ,
             SLOT = "00" ,
             FUNCTION = "5" ,
             NUMA_NODE = "1" ,
             IFNAME = "-" ,
             SRIOV = "vf" ,
             DEVICE_NAME = "NVIDIA vGPU device" ,
             UUID = "f86f1cd5-9929-5b66-bfad-a44c80ccb0c0" ,
             PROFILES = "nvidia-557,nvidia-558" ,
             MDEV_MODE = "legacy" 
            ]
            PCI = [
             TYPE = "10de:1eb8:0302" ,
             VENDOR = "10de" ,
             VENDOR_NAME = "NVIDIA Corporation" ,
             DEVICE = "1eb8" ,
             CLASS = "0302" ,
             CLASS_NAME = "3D controller" ,
             ADDRESS = "0000:42:00:0" ,
             SHORT_ADDRESS = "42:00.0" ,
             DOMAIN = "0000" ,
             BUS = "42" ,
             SLOT = "00" ,
             FUNCTION = "0" ,
             NUMA_NODE = "0" ,
             IFNAME = "-" ,
             SRIOV = "no" ,
             DEVICE_NAME = "NVIDIA Corporation TU104GL [Tesla T4]" 
            ]

            """.Replace("\r", ""),
            Probe(_vgpu, "10de:*"));
    }

    [Fact]
    public void A_vendor_outside_nvidia_vendors_gets_no_vgpu_rules_and_its_pf_with_vfs_is_still_skipped()
    {
        var text = Probe(_vgpu, new PciProbeFilter(["10de:*"], nvidiaVendors: []));
        Assert.DoesNotContain("UUID", text);
        Assert.DoesNotContain("41:00.0", text);
        Assert.Contains(" SRIOV = \"vf\" ,\n DEVICE_NAME = \"TU104GL [Tesla T4]\" \n]", text);
    }

    [Fact]
    public void A_pf_without_vfs_reports_sriov_num_and_the_port_interface()
    {
        var text = Probe(_vgpu, "8086:*");
        Assert.Contains(" ADDRESS = \"0000:43:00:0\" ,\n SHORT_ADDRESS = \"43:00.0\" ,\n DOMAIN = \"0000\" ,\n BUS = \"43\" ,\n SLOT = \"00\" ,\n FUNCTION = \"0\" ,\n NUMA_NODE = \"0\" ,\n IFNAME = \"enp67s0f0np0\" ,\n SRIOV = \"pf\" ,\n SRIOV_NUM = \"0\" ,\n DEVICE_NAME = \"I350 Gigabit Network Connection\" \n]\n", text);
        Assert.Contains(" NUMA_NODE = \"-\" ,\n IFNAME = \"-\" ,\n SRIOV = \"no\" ,\n", text);
    }

    [Fact]
    public void A_malformed_vgpu_type_line_loses_every_profile_as_pci_rb_does()
    {
        _vgpu.WriteFile("sys/bus/pci/devices/0000:41:00.4/nvidia/creatable_vgpu_types", "557 : NVIDIA A100-4C\n\n558 : NVIDIA A100-5C\n");
        Assert.Contains(" PROFILES = \"\" ,\n MDEV_MODE = \"nvidia\" \n", Probe(_vgpu, new PciProbeFilter(["*:*"], shortAddress: ["41:00.4"])));
    }

    [Fact]
    public void The_uuid_is_uuidgens_sha1_x500_uuid_of_the_address()
    {
        // Values printed by uuidgen (util-linux, Debian uuid-runtime): uuidgen --sha1 --namespace @x500 --name ADDRESS
        Assert.Equal("e4042b96-e63d-56cf-bcc8-4e6eecccc12e", NameBasedUuid.X500Sha1("0000:41:00:4"));
        Assert.Equal("f4756761-3662-5ca9-8092-3a6df1c6ce32", NameBasedUuid.X500Sha1("0000:02:10:0"));
    }

    [Theory]
    [InlineData("10de", "At least two fields must be given", ErrorIds.InvalidFilter)]
    [InlineData("*:*", "not a valid regular expression", ErrorIds.InvalidDeviceNamePattern)]
    public void A_bad_filter_fails_before_reading(string filter, string message, string id)
    {
        var e = Assert.Throws<PciPassthroughException>(() => new PciProbe(new HostRoot(_sample.Root), new PciProbeFilter([filter], deviceName: id == ErrorIds.InvalidDeviceNamePattern ? ["(unclosed"] : null)));
        Assert.Equal(id, e.ErrorId);
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("numa_node", " 01 \n")]
    [InlineData("numa_node", "abc\n")]
    [InlineData("numa_node", "-3\n")]
    [InlineData("numa_node", "")]
    [InlineData("numa_node", "\u00e9t\u00e9\n")]
    [InlineData("numa_node", "\ufeff1\n")]
    [InlineData("numa_node", "\v1\f\u0085\n")]
    [InlineData("numa_node", "1\0\n")]
    [InlineData("sriov_numvfs", "  2\n")]
    [InlineData("sriov_numvfs", "x\n")]
    [InlineData("sriov_numvfs", "\n")]
    [InlineData("sriov_totalvfs", "junk\n")]
    [InlineData("physfn", "not a link\n")]
    [InlineData("net/eth9/phys_port_name", "p1\n")]
    public void Odd_attribute_files_print_the_same_whether_the_reader_or_the_probe_reads_them(string file, string content)
    {
        // Probe() fails when the probe's read (raw text, existence) and reading pci.rb's files by path disagree.
        var address = "0000:03:00.0";
        if (file == "numa_node" && content.Length == 0)
        {
            File.Delete(Path.Combine(_sample.DeviceDir(address), file));
        }
        else
        {
            _sample.WriteFile($"sys/bus/pci/devices/{address}/{file}", content);
        }

        if (file.StartsWith("net/", StringComparison.Ordinal))
        {
            _sample.WriteFile($"sys/bus/pci/devices/{address}/net/eth8/phys_port_name", "0\n"); // two interfaces: the p<N> one is named
        }

        var text = Probe(_sample, "*:*");
        var hasVfs = file == "sriov_numvfs" && content.Trim() == "2"; // a PF with VFs is left out, its VFs listed
        Assert.Equal(!hasVfs, text.Contains(" SHORT_ADDRESS = \"03:00.0\" ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_numa_node_longer_than_the_reader_buffer_is_read_whole()
    {
        _sample.WriteFile("sys/bus/pci/devices/0000:03:00.0/numa_node", new string('7', 300) + "\n");
        Assert.Contains($" NUMA_NODE = \"{new string('7', 300)}\" ", Probe(_sample, "*:*"), StringComparison.Ordinal);
    }
}
