using PciPassthrough.Ids;

namespace PciPassthrough.Core.Tests;

public class PciNamesTests
{
    private static readonly PciIdDatabase Db = PciIdDatabase.Parse(SampleHost.PciIds.Replace("        ", "").Split('\n'));

    [Fact]
    public void Known_ids_read_their_names()
    {
        Assert.Equal("NVIDIA Corporation", PciNames.Vendor(Db, 0x10de));
        Assert.Equal("TU104GL [Tesla T4]", PciNames.Device(Db, 0x10de, 0x1eb8));
        Assert.Equal("Ethernet Server Adapter I350-T4", PciNames.Subsystem(Db, 0x8086, 0x1521, 0x8086, 0x0001));
        Assert.Equal("VGA compatible controller", PciNames.Class(Db, 0x03, 0x00));
        Assert.Equal("NVM Express", Db.FindProgIf(0x01, 0x08, 0x02));
    }

    [Fact]
    public void Unknown_ids_read_as_lspci_prints_them()
    {
        Assert.Equal("Vendor [abab]", PciNames.Vendor(Db, 0xabab));
        Assert.Equal("Device [7777]", PciNames.Device(Db, 0xabab, 0x7777));
        Assert.Equal("Device [7777]", PciNames.Device(Db, 0x10de, 0x7777));
        Assert.Equal("Unknown vendor [abab]", PciNames.SubsystemVendor(Db, 0xabab));
        Assert.Equal("Device [a801]", PciNames.Subsystem(Db, 0x144d, 0xa808, 0x144d, 0xa801));
        Assert.Equal("Class [7701]", PciNames.Class(Db, 0x77, 0x01));
    }

    [Fact]
    public void A_class_without_a_known_subclass_takes_the_class_name_and_number_as_lspci_prints_it()
    {
        Assert.Equal("Unassigned class [ff00]", PciNames.Class(Db, 0xff, 0x00));
        Assert.Equal("Network controller [0280]", PciNames.Class(Db, 0x02, 0x80));
    }

    [Fact]
    public void Generic_subsystem_blocks_name_a_subsystem_on_any_device_after_the_devices_own_entry()
    {
        Assert.Equal("QEMU Virtual Machine", PciNames.Subsystem(Db, 0x8086, 0x29c0, 0x1af4, 0x1100));
        Assert.Equal("Ethernet Server Adapter I350-T4", PciNames.Subsystem(Db, 0x8086, 0x1521, 0x8086, 0x0001));
        Assert.Null(Db.FindDevice(0x1af4, 0x1100));
    }

    [Fact]
    public void A_subsystem_equal_to_the_device_takes_the_device_name()
    {
        Assert.Equal("I350 Gigabit Network Connection", PciNames.Subsystem(Db, 0x8086, 0x1521, 0x8086, 0x1521));
    }

    [Fact]
    public void Blocks_other_than_vendors_and_classes_are_skipped_with_their_lines()
    {
        // "X 8086" must not replace the Intel vendor entry, nor "0001  skipped" become an Intel device.
        Assert.Equal("Intel Corporation", PciNames.Vendor(Db, 0x8086));
        Assert.Null(Db.FindDevice(0x8086, 0x0001));
    }

    [Fact]
    public void Malformed_lines_are_skipped_and_the_rest_still_parses()
    {
        var db = PciIdDatabase.Parse(["zzzz  Broken vendor", "1af4  Red Hat, Inc.", "\tqqqq  broken device", "\t1041  Virtio 1.0 network device", "\t\t1af4", "1af5"]);
        Assert.Equal("Red Hat, Inc.", db.FindVendor(0x1af4));
        Assert.Equal("Virtio 1.0 network device", db.FindDevice(0x1af4, 0x1041));
        Assert.Equal(1, db.VendorCount);
    }

    [Fact]
    public void Loading_a_missing_file_is_the_stable_error()
    {
        var e = Assert.Throws<PciPassthroughException>(() => PciIdDatabase.Load("/nonexistent/pci.ids"));
        Assert.Equal(ErrorIds.PciIdsUnreadable, e.ErrorId);
    }

    [Fact]
    public void The_system_database_loads_once_and_is_reused()
    {
        var path = PciIdDatabase.WellKnownPaths.FirstOrDefault(File.Exists);
        Assert.True(path is not null, "Install the pci.ids package (apt-get install pci.ids): the tests compare names with lspci.");
        var first = PciIdDatabase.Load(path!);
        Assert.Same(first, PciIdDatabase.Load(path!));
        Assert.True(first.VendorCount > 1000);
    }
}
