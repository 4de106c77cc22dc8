using PciPassthrough.Host;
using PciPassthrough.HostFs;
using PciPassthrough.OpenNebula.HostAttributes;
using PciPassthrough.OpenNebula.Placement;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// PCI_FILTER / PCI_SHORT_ADDRESS computed from a host's devices for guests (vfio-pci, or driver_override
/// vfio-pci), as one-deploy's roles/pci/node/tasks/filters.yml lists them: a PF with VFs enabled is left
/// out (the probe lists its VFs). Expected values written by hand; the result is then checked with the
/// core-side filter OpenNebula applies (HostSharePCI::set_monitorization), against every device.
/// </summary>
public class HostFilterAttributesTests
{
    private static FakeHost Host() => new FakeHost()
        .Add(new FakeDevice("0000:01:00.0") { Vendor = 0x10de, Device = 0x2330, ClassCode = 0x030200, Driver = "vfio-pci", IommuGroup = 1 })
        .Add(new FakeDevice("0000:01:00.1") { Vendor = 0x10de, Device = 0x22a3, ClassCode = 0x040300, Driver = "vfio-pci", IommuGroup = 1 })
        .Add(new FakeDevice("0000:02:00.0") { Vendor = 0x8086, Device = 0x1520, Driver = "vfio-pci", TotalVfs = 7, NumVfs = 2, IommuGroup = 2 })
        .Add(new FakeDevice("0000:02:10.0") { Vendor = 0x8086, Device = 0x1520, Driver = "vfio-pci", PhysicalFunction = "0000:02:00.0", IommuGroup = 3 })
        .Add(new FakeDevice("0000:03:00.0") { Vendor = 0x8086, Device = 0x10d3, Driver = "e1000e", DriverOverride = "vfio-pci", IommuGroup = 4 })
        .Add(new FakeDevice("0000:04:00.0") { Vendor = 0x10de, Device = 0x2330, ClassCode = 0x030200, Driver = "nvidia", IommuGroup = 5 })
        .Add(new FakeDevice("0000:05:00.0") { Vendor = 0x8086, Device = 0x100e, Driver = "e1000", IommuGroup = 6 })
        .Add(new FakeDevice("0001:af:00.0") { Vendor = 0x144d, Device = 0xa808, ClassCode = 0x010802, Driver = "vfio-pci", IommuGroup = 7 });

    [Fact]
    public void The_devices_for_guests_give_both_attributes_and_the_onehost_update_text()
    {
        using var host = Host();
        var a = PciHostFilterBuilder.FromHost(new HostSession(new HostRoot(host.Root)), null, "hv1");
        Assert.Equal(["0000:01:00.0", "0000:01:00.1", "0000:02:10.0", "0000:03:00.0", "0001:af:00.0"], a.PciAddresses);
        Assert.Equal("10de:2330,10de:22a3,8086:1520,8086:10d3,144d:a808", a.PciFilter);
        Assert.Equal("01:00.0,01:00.1,02:10.0,03:00.0,0001:af:00.0", a.PciShortAddress);
        Assert.Equal("PCI_FILTER = \"10de:2330,10de:22a3,8086:1520,8086:10d3,144d:a808\"\nPCI_SHORT_ADDRESS = \"01:00.0,01:00.1,02:10.0,03:00.0,0001:af:00.0\"\n", a.Template);
        Assert.Equal("onehost update hv1 --append pci-filter.txt", a.Command);
        Assert.Equal(["0000:02:00.0: a physical function with 2 VFs enabled; OpenNebula's probe reports its VFs instead."], a.LeftOut);
    }

    [Fact]
    public void Opennebulas_filter_with_these_attributes_keeps_exactly_those_devices()
    {
        using var host = Host();
        var a = PciHostFilterBuilder.FromHost(new HostSession(new HostRoot(host.Root)), null, null);

        // The probe's view of every device (04:00.0 shares 01:00.0's ids: PCI_SHORT_ADDRESS drops it).
        string[] all = ["0000:01:00.0 10de 2330 0302", "0000:01:00.1 10de 22a3 0403", "0000:02:10.0 8086 1520 0200", "0000:03:00.0 8086 10d3 0200", "0000:04:00.0 10de 2330 0302", "0000:05:00.0 8086 100e 0200", "0001:af:00.0 144d a808 0108"];
        var kept = all.Select(r => r.Split(' ')).Select(f => PciHostDevice.Create(f[0], f[1], f[2], f[3], -1, null, null, "t")).Where(a.ToFilter().Keeps).Select(d => d.PciAddress);
        Assert.Equal(a.PciAddresses, kept);
        Assert.Equal("onehost update <host> --append pci-filter.txt", a.Command);
    }

    [Fact]
    public void Named_devices_replace_the_selection_and_an_empty_selection_is_refused()
    {
        using var host = Host();
        var session = new HostSession(new HostRoot(host.Root));
        var a = PciHostFilterBuilder.FromHost(session, ["0000:04:00.0", "04:00.0", "0000:02:00.0"], null);
        Assert.Equal(["0000:04:00.0"], a.PciAddresses);
        Assert.Equal("10de:2330", a.PciFilter);
        Assert.Single(a.LeftOut);

        var missing = Assert.Throws<PciPassthroughException>(() => PciHostFilterBuilder.FromHost(session, ["0000:99:00.0"], null));
        Assert.Equal(ErrorIds.DeviceNotFound, missing.ErrorId);

        using var none = new FakeHost().Add(new FakeDevice("0000:05:00.0") { Driver = "e1000" });
        var e = Assert.Throws<PciPassthroughException>(() => PciHostFilterBuilder.FromHost(new HostSession(new HostRoot(none.Root)), null, null));
        Assert.Equal("NoPassthroughDevices", e.ErrorId);
        Assert.NotNull(e.RecommendedAction);
        var pfOnly = Assert.Throws<PciPassthroughException>(() => PciHostFilterBuilder.FromHost(session, ["0000:02:00.0"], null));
        Assert.Contains("2 VFs enabled", pfOnly.Message);
    }
}
