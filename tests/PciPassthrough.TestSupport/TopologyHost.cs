namespace PciPassthrough.TestSupport;

/// <summary>A host shaped like the real-kernel testbed's PCIe tree, with config space that tells ports apart.</summary>
public static class TopologyHost
{
    // The testbed's layout: a root port with ACS, an x3130 switch without ACS, a disable-acs root port,
    // a pcie-pci-bridge with two conventional NICs, and the ICH9 multi-function group.
    public static FakeHost Create()
    {
        var host = new FakeHost();
        host.Add(new FakeDevice("0000:00:00.0") { ClassCode = 0x060000, Driver = null, IommuGroup = 0, ResetMethods = null });
        host.Add(new FakeDevice("0000:00:02.0") { Driver = "e1000", IommuGroup = 2, ResetMethods = null, ConfigBytes = ConfigBytes.Conventional() });
        host.Add(new FakeDevice("0000:00:05.0") { ClassCode = 0x060400, HeaderType = 1, Driver = "pcieport", IommuGroup = 5, ConfigBytes = ConfigBytes.Pcie(4, 1, acsCap: 0x1f, acsCtl: 0x1f, secondary: 1, subordinate: 1) });
        host.Add(new FakeDevice("0000:01:00.0") { Parent = "0000:00:05.0", Vendor = 0x8086, Device = 0x10d3, Driver = "e1000e", IommuGroup = 7, ResetMethods = "pm bus", ConfigBytes = ConfigBytes.Pcie(0) });
        host.Add(new FakeDevice("0000:00:07.0") { ClassCode = 0x060400, HeaderType = 1, Driver = "pcieport", IommuGroup = 8, ConfigBytes = ConfigBytes.Pcie(4, 1, acsCap: 0x1f, acsCtl: 0x1f, secondary: 2, subordinate: 4) });
        host.Add(new FakeDevice("0000:02:00.0") { Parent = "0000:00:07.0", ClassCode = 0x060400, HeaderType = 1, Driver = "pcieport", IommuGroup = 9, ConfigBytes = ConfigBytes.Pcie(5, 1, secondary: 3, subordinate: 4) });
        host.Add(new FakeDevice("0000:03:00.0") { Parent = "0000:02:00.0", ClassCode = 0x060400, HeaderType = 1, Driver = "pcieport", IommuGroup = 10, ConfigBytes = ConfigBytes.Pcie(6, 1, secondary: 4, subordinate: 4) });
        host.Add(new FakeDevice("0000:04:00.0") { Parent = "0000:03:00.0", Device = 0x10d3, Driver = "e1000e", IommuGroup = 10, ConfigBytes = ConfigBytes.Pcie(0) });
        host.Add(new FakeDevice("0000:00:08.0") { ClassCode = 0x060400, HeaderType = 1, IommuGroup = 11, ResetMethods = "pm", ConfigBytes = ConfigBytes.Pcie(7, 1, secondary: 5, subordinate: 5) });
        host.Add(new FakeDevice("0000:05:01.0") { Parent = "0000:00:08.0", Device = 0x100f, Driver = "e1000", IommuGroup = 11, ResetMethods = "bus", ConfigBytes = ConfigBytes.Conventional() });
        host.Add(new FakeDevice("0000:05:02.0") { Parent = "0000:00:08.0", Device = 0x100f, Driver = "e1000", IommuGroup = 11, ResetMethods = null, ConfigBytes = ConfigBytes.Conventional() });
        host.Add(new FakeDevice("0000:00:09.0") { ClassCode = 0x060400, HeaderType = 1, Driver = "pcieport", IommuGroup = 12, ConfigBytes = ConfigBytes.Pcie(4, 1, secondary: 6, subordinate: 6) });
        host.Add(new FakeDevice("0000:06:00.0") { Parent = "0000:00:09.0", Device = 0x10d3, Driver = "e1000e", IommuGroup = 12, ConfigBytes = ConfigBytes.Pcie(0) });
        host.Add(new FakeDevice("0000:00:0a.0") { ClassCode = 0x060400, HeaderType = 1, Driver = "pcieport", IommuGroup = 13, ConfigBytes = ConfigBytes.Pcie(4, 1, acsCap: 0x1f, acsCtl: 0x01, secondary: 7, subordinate: 7) });
        host.Add(new FakeDevice("0000:07:00.0") { Parent = "0000:00:0a.0", Device = 0x10d3, Driver = "e1000e", IommuGroup = 13, ConfigBytes = ConfigBytes.Pcie(0) });
        host.Add(new FakeDevice("0000:00:1f.0") { ClassCode = 0x060100, MultiFunction = true, Driver = "lpc_ich", IommuGroup = 6, ResetMethods = null, ConfigBytes = ConfigBytes.Conventional(multiFunction: true) });
        host.Add(new FakeDevice("0000:00:1f.2") { ClassCode = 0x010601, MultiFunction = true, Driver = "ahci", IommuGroup = 6, ResetMethods = null, ConfigBytes = ConfigBytes.Conventional(multiFunction: true) });
        return host;
    }
}
