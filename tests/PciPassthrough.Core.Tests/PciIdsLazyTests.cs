using System.Text.RegularExpressions;
using PciPassthrough.Ids;

namespace PciPassthrough.Core.Tests;

/// <summary>pci.ids' vendor blocks are parsed when first asked for: the names must be those of a parse in file order.</summary>
public partial class PciIdsLazyTests
{
    [GeneratedRegex("^([0-9a-f]{4})  ")]
    private static partial Regex VendorLine();

    [GeneratedRegex("^\t([0-9a-f]{4})  ")]
    private static partial Regex DeviceLine();

    [Fact]
    public void A_vendor_in_two_blocks_has_the_devices_of_both_and_the_last_name()
    {
        var db = PciIdDatabase.Parse(
        [
            "8086  Intel",
            "\t100e  82540EM",
            "\t\t8086 001e  PRO/1000 MT Mobile",
            "10de  NVIDIA Corporation",
            "\t1eb8  TU104GL [Tesla T4]",
            "8086  Intel Corporation",
            "\t1521  I350 Gigabit Network Connection",
            "\t100e  82540EM Gigabit Ethernet Controller",
        ]);
        Assert.Equal("Intel Corporation", db.FindVendor(0x8086));
        Assert.Equal("82540EM Gigabit Ethernet Controller", db.FindDevice(0x8086, 0x100e));
        Assert.Equal("I350 Gigabit Network Connection", db.FindDevice(0x8086, 0x1521));
        Assert.Equal("PRO/1000 MT Mobile", db.FindSubsystem(0x8086, 0x100e, 0x8086, 0x001e));
        Assert.Equal("TU104GL [Tesla T4]", db.FindDevice(0x10de, 0x1eb8));
        Assert.Equal(2, db.VendorCount);
    }

    [Fact]
    public void A_block_ends_at_the_next_top_level_line_whatever_it_is()
    {
        var db = PciIdDatabase.Parse(
        [
            "1af4  Red Hat, Inc.",
            "# a comment does not end the block",
            "",
            "\t1041  Virtio 1.0 network device",
            "C 02  Network controller",
            "\t00  Ethernet controller",
            "X 1af4  a reserved block",
            "\t1042  not a Red Hat device",
            "S 1af4",
            "\t0001  Generic Red Hat subsystem",
            " garbage at the top level",
            "\t1043  not a Red Hat device either",
        ]);
        Assert.Equal("Virtio 1.0 network device", db.FindDevice(0x1af4, 0x1041));
        Assert.Null(db.FindDevice(0x1af4, 0x1042));
        Assert.Null(db.FindDevice(0x1af4, 0x1043));
        Assert.Null(db.FindDevice(0x1af4, 0x0000));
        Assert.Equal("Ethernet controller", db.FindSubclass(0x02, 0x00));
        Assert.Equal("Generic Red Hat subsystem", db.FindGenericSubsystem(0x1af4, 0x0001));
    }

    [Fact]
    public void Names_asked_from_many_threads_at_once_are_the_names_asked_one_by_one()
    {
        var path = PciIdDatabase.WellKnownPaths.FirstOrDefault(File.Exists);
        Assert.True(path is not null, "Install the pci.ids package (apt-get install pci.ids).");
        var lines = File.ReadAllLines(path!);
        var ids = lines.Select(l => DeviceLine().Match(l)).Where(m => m.Success).Select(m => Convert.ToInt32(m.Groups[1].Value, 16)).ToArray();
        var vendors = lines.Select(l => VendorLine().Match(l)).Where(m => m.Success).Select(m => Convert.ToInt32(m.Groups[1].Value, 16)).ToArray();
        var queries = vendors.SelectMany((v, i) => ids.Skip(i * 7 % ids.Length).Take(8).Select(d => (v, d))).ToArray();

        // Two databases from the same text (Parse does not share the Load cache): one asked in order, one by eight threads at once.
        var text = File.ReadAllText(path!).Split('\n');
        var sequential = PciIdDatabase.Parse(text);
        var expected = queries.Select(q => (sequential.FindVendor(q.v), sequential.FindDevice(q.v, q.d))).ToArray();
        var concurrent = PciIdDatabase.Parse(text);
        var actual = new (string?, string?)[queries.Length];
        Parallel.For(0, queries.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => actual[i] = (concurrent.FindVendor(queries[i].v), concurrent.FindDevice(queries[i].v, queries[i].d)));

        Assert.Equal(expected, actual);
        Assert.Contains(expected, e => e.Item2 is not null); // the queries hit real devices, not only misses
    }

    [Fact]
    public void A_byte_order_mark_is_not_part_of_the_first_vendor()
    {
        var dir = Directory.CreateTempSubdirectory("pcipt-ids-").FullName;
        try
        {
            var path = Path.Combine(dir, "pci.ids");
            File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. "1af4  Red Hat, Inc.\n\t1041  Virtio 1.0 network device\n"u8]);
            var db = PciIdDatabase.Load(path);
            Assert.Equal("Red Hat, Inc.", db.FindVendor(0x1af4));
            Assert.Equal("Virtio 1.0 network device", db.FindDevice(0x1af4, 0x1041));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
