using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// Debian's lspci names a subsystem pci.ids lacks after its device when the host has udev's hwdb.bin (hwdb's device
/// pattern matches the subsystem query): the module does the same on a root with a hwdb, and only there.
/// </summary>
public class SubsystemHwdbTests
{
    private const string Vf = "0000:02:10.4";

    [Fact]
    public void An_unknown_subsystem_takes_the_device_name_only_on_a_root_with_a_hwdb()
    {
        using var plain = VfHost();
        using var withHwdb = VfHost();
        withHwdb.WriteFile("usr/lib/udev/hwdb.bin", "KSLPHHRH");
        // One parsed pci.ids serves both roots (as -PciIdsPath would): the hwdb answer must not stick to it.
        var names = PciIdDatabase.Load(Path.Combine(plain.Root, "usr/share/misc/pci.ids"));

        Assert.Equal("I350 Ethernet Controller Virtual Function", ReadVf(withHwdb, names).SubsystemName);
        Assert.Equal("Device [0000]", ReadVf(plain, names).SubsystemName);
        Assert.Equal("I350 Ethernet Controller Virtual Function", ReadVf(withHwdb, names).SubsystemName);
    }

    [Fact]
    public void A_known_subsystem_and_an_unknown_device_keep_their_pci_ids_answers_with_a_hwdb()
    {
        using var host = SampleHost.Create();
        host.WriteFile("etc/udev/hwdb.bin", "KSLPHHRH");
        var devices = ReaderFixture.ReadAll(host).Devices;
        Assert.Equal("Ethernet Server Adapter I350-T4", devices.Single("0000:02:00.0").SubsystemName);
        Assert.Equal("Device [0001]", devices.Single("0000:04:00.0").SubsystemName); // device abab:7777 is unknown too
    }

    [Fact]
    public void Subsystem_names_agree_with_lspci_as_installed_with_this_machines_hwdb()
    {
        Assert.True(Lspci.IsInstalled, Lspci.MissingMessage);
        using var host = new FakeHost();
        host.Add(new FakeDevice("0000:18:00.0") { Vendor = 0x15b3, Device = 0x1017, SubsystemVendor = 0x15b3, SubsystemDevice = 0x0020, TotalVfs = 8, NumVfs = 1, IommuGroup = 1 })
            .Add(new FakeDevice("0000:18:00.2") { Vendor = 0x15b3, Device = 0x1018, SubsystemVendor = 0x15b3, SubsystemDevice = 0x0020, PhysicalFunction = "0000:18:00.0", IommuGroup = 2 })
            .Add(new FakeDevice("0000:19:00.0") { Vendor = 0x8086, Device = 0x1521, SubsystemVendor = 0x8086, SubsystemDevice = 0x0001, TotalVfs = 7, NumVfs = 1, IommuGroup = 3 })
            .Add(new FakeDevice("0000:19:10.0") { Vendor = 0x8086, Device = 0x1520, SubsystemVendor = 0x8086, SubsystemDevice = 0x0000, PhysicalFunction = "0000:19:00.0", IommuGroup = 4 });
        // The machine's pci.ids and, when it has one, its hwdb: lspci on a tree still reads this machine's hwdb.
        var pciIds = PciIdDatabase.WellKnownPaths.First(File.Exists);
        var hwdb = UdevHwdb.Paths.FirstOrDefault(File.Exists);
        host.WriteFile("usr/share/misc/pci.ids", File.ReadAllText(pciIds));
        if (hwdb is not null)
        {
            Directory.CreateDirectory(Path.Combine(host.Root, "usr/lib/udev"));
            File.CreateSymbolicLink(Path.Combine(host.Root, "usr/lib/udev/hwdb.bin"), hwdb);
        }

        var root = new HostRoot(host.Root);
        var ours = new PciDeviceReader(root, PciIdDatabaseLocator.Locate(root, null)).ReadAll().ToList();
        var (exit, output, error) = Lspci.RunWithHwdb(Lspci.ForTree(host, "-vmm", "-nn", "-D"));
        Assert.True(exit == 0, error);
        var lspci = Lspci.ParseMachineReadable(output);
        Assert.Equal(lspci.Select(r => r["Slot"]), ours.Select(d => d.PciAddress));
        Assert.Equal(lspci.Select(r => r["SDevice"]), ours.Select(d => Lspci.WithId(d.SubsystemName, d.SubsystemId)));
        Assert.Equal(lspci.Select(r => r["Device"]), ours.Select(d => Lspci.WithId(d.DeviceName, d.DeviceId)));
    }

    private static PciDevice ReadVf(FakeHost host, PciIdDatabase names) =>
        new PciDeviceReader(new HostRoot(host.Root), names).Read(PciAddress.Parse(Vf))!;

    private static FakeHost VfHost()
    {
        var host = new FakeHost();
        host.WriteFile("usr/share/misc/pci.ids", SampleHost.PciIds.Replace("        ", "", StringComparison.Ordinal));
        host.Add(new FakeDevice("0000:02:00.0") { Device = 0x1521, SubsystemVendor = 0x8086, SubsystemDevice = 0x0001, TotalVfs = 7, NumVfs = 2, IommuGroup = 7 })
            .Add(new FakeDevice(Vf) { Device = 0x1520, SubsystemVendor = 0x8086, SubsystemDevice = 0x0000, PhysicalFunction = "0000:02:00.0", VfIndex = 1, IommuGroup = 9 });
        return host;
    }
}
