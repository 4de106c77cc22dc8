using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Core.Tests;

internal static class ReaderFixture
{
    public static (List<PciDevice> Devices, PciDeviceReader Reader) ReadAll(FakeHost host)
    {
        var root = new HostRoot(host.Root);
        var reader = new PciDeviceReader(root, PciIdDatabaseLocator.Locate(root, null));
        return (reader.ReadAll().ToList(), reader);
    }

    public static PciDevice Single(this List<PciDevice> devices, string address) => devices.Single(d => d.PciAddress == address);
}
