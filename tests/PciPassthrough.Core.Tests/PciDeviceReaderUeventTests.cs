namespace PciPassthrough.Core.Tests;

/// <summary>The ids from a device's uevent, and the attributes as the fallback for whatever it does not hold in the kernel's form.</summary>
public class PciDeviceReaderUeventTests
{
    private static readonly string[] IdAttributes = ["vendor", "device", "class", "subsystem_vendor", "subsystem_device"];

    [Fact]
    public void The_ids_come_from_uevent_when_it_holds_them()
    {
        using var host = new FakeHost();
        host.Add(new FakeDevice("0000:05:00.0") { Vendor = 0x15b3, Device = 0x1018, ClassCode = 0x020000, SubsystemVendor = 0x15b3, SubsystemDevice = 0x0020 });
        foreach (var attribute in IdAttributes)
        {
            File.Delete(Path.Combine(host.DeviceDir("0000:05:00.0"), attribute)); // so these values can only come from uevent
        }

        var (devices, reader) = ReaderFixture.ReadAll(host);
        var d = Assert.Single(devices);
        Assert.Equal(("15b3", "1018", "020000", "0200", "00"), (d.VendorId, d.DeviceId, d.ClassCode, d.Class, d.ProgIf));
        Assert.Equal(("15b3", "0020"), (d.SubsystemVendorId, d.SubsystemId));
        Assert.Equal("MT27800 Family [ConnectX-5 Virtual Function]", d.DeviceName);
        Assert.Empty(reader.Diagnostics);
    }

    [Fact]
    public void The_same_tree_with_and_without_uevent_reads_the_same()
    {
        using var with = SampleHost.Create();
        using var without = SampleHost.Create();
        foreach (var dir in Directory.GetDirectories(Path.Combine(without.Root, "sys/bus/pci/devices")))
        {
            File.Delete(Path.Combine(dir, "uevent"));
        }

        var (a, _) = ReaderFixture.ReadAll(with);
        var (b, _) = ReaderFixture.ReadAll(without);
        Assert.Equal(a.Count, b.Count);
        Assert.Equal(
            b.Select(d => (d.PciAddress, d.VendorId, d.DeviceId, d.ClassCode, d.SubsystemVendorId, d.SubsystemId, d.DeviceName, d.SubsystemName)),
            a.Select(d => (d.PciAddress, d.VendorId, d.DeviceId, d.ClassCode, d.SubsystemVendorId, d.SubsystemId, d.DeviceName, d.SubsystemName)));
    }

    [Theory]
    [InlineData("PCI_ID=15b3:1018\nPCI_CLASS=20000\nPCI_SUBSYS_ID=15B3:0020\n", "vendor device")] // lower-case hex is not the kernel's form
    [InlineData("PCI_CLASS=0x020000\nPCI_ID=15B3:1018\nPCI_SUBSYS_ID=15B3:0020\n", "class")]
    [InlineData("PCI_CLASS=1020000\nPCI_ID=15B3:1018\nPCI_SUBSYS_ID=15B3:0020\n", "class")] // more than 24 bits
    [InlineData("PCI_CLASS=20000\nPCI_ID=15B3:1018\nPCI_SUBSYS_ID=15B3:0020", "subsystem")] // no newline: a cut line is not taken
    [InlineData("PCI_CLASS=20000\nPCI_ID=15B3:10180\nPCI_SUBSYS_ID=15B3:0020\n", "vendor device")]
    [InlineData("PCI_CLASS=20000\nPCI_ID=15B3 1018\nPCI_SUBSYS_ID=15B3:0020\n", "vendor device")]
    [InlineData("PCI_CLASS=20000\nPCI_ID=\nPCI_SUBSYS_ID=:\n", "vendor device subsystem")]
    [InlineData("\0\u0001garbage", "vendor device class subsystem")]
    [InlineData("", "vendor device class subsystem")]
    public void An_id_uevent_holds_in_another_form_is_read_from_its_attribute(string uevent, string fromAttributes)
    {
        using var host = new FakeHost();
        // The attributes say other ids than uevent, so each value shows where it came from.
        host.Add(new FakeDevice("0000:05:00.0") { Vendor = 0x8086, Device = 0x1521, ClassCode = 0x010802, SubsystemVendor = 0x8086, SubsystemDevice = 0x0001 });
        File.WriteAllText(Path.Combine(host.DeviceDir("0000:05:00.0"), "uevent"), uevent);

        var d = Assert.Single(ReaderFixture.ReadAll(host).Devices);
        var attributes = fromAttributes.Split(' ');
        Assert.Equal(attributes.Contains("vendor") ? "8086" : "15b3", d.VendorId);
        Assert.Equal(attributes.Contains("device") ? "1521" : "1018", d.DeviceId);
        Assert.Equal(attributes.Contains("class") ? "010802" : "020000", d.ClassCode);
        Assert.Equal(attributes.Contains("subsystem") ? ("8086", "0001") : ("15b3", "0020"), (d.SubsystemVendorId, d.SubsystemId));
    }

    [Fact]
    public void The_first_of_a_repeated_key_counts()
    {
        using var host = new FakeHost();
        host.Add(new FakeDevice("0000:05:00.0") { Vendor = 0x8086, Device = 0x1521 });
        File.WriteAllText(Path.Combine(host.DeviceDir("0000:05:00.0"), "uevent"), "DRIVER=igb\nPCI_ID=15B3:1018\nPCI_ID=10DE:1EB8\n");

        var d = Assert.Single(ReaderFixture.ReadAll(host).Devices);
        Assert.Equal(("15b3", "1018"), (d.VendorId, d.DeviceId));
    }
}
