using PciPassthrough.Binding;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Core.Tests;

/// <summary>Two e1000 NICs in their own groups, an ICH9-like group of three, vfio-pci loaded, and a fake kernel.</summary>
internal sealed class BindingFixture : IDisposable
{
    public const string Nic1 = "0000:01:00.0";
    public const string Nic2 = "0000:02:00.0";

    public BindingFixture(bool vfioLoaded = true)
    {
        Host = new FakeHost().WithHealthyIntelIommu();
        Host.Add(new FakeDevice(Nic1) { Driver = "e1000", IommuGroup = 1, NetworkInterfaces = ["ens1"] })
            .Add(new FakeDevice(Nic2) { Driver = "e1000", IommuGroup = 2, DriverOverride = "e1000", NetworkInterfaces = ["ens2"] })
            .Add(new FakeDevice("0000:00:1f.0") { Device = 0x2918, ClassCode = 0x060100, Driver = "lpc_ich", IommuGroup = 5 })
            .Add(new FakeDevice("0000:00:1f.3") { Device = 0x2930, ClassCode = 0x0c0500, Driver = "i801_smbus", IommuGroup = 5 })
            .Add(new FakeDevice("0000:00:1f.6") { Device = 0x10d3, ClassCode = 0x020000, Driver = "e1000e", IommuGroup = 5 });
        if (vfioLoaded)
        {
            Directory.CreateDirectory(Path.Combine(Host.Root, "sys/bus/pci/drivers/vfio-pci"));
        }

        Kernel = new FakeKernel(Host, (Nic1, "e1000"), (Nic2, "e1000"), ("0000:00:1f.0", "lpc_ich"), ("0000:00:1f.3", "i801_smbus"), ("0000:00:1f.6", "e1000e"));
        Root = new HostRoot(Host.Root);
    }

    public FakeHost Host { get; }

    public FakeKernel Kernel { get; }

    public HostRoot Root { get; }

    public List<string> Log { get; } = [];

    public VfioBinder Binder(bool requireRoot = false, TimeSpan? lockTimeout = null, IKernel? kernel = null) =>
        new(Root, kernel ?? Kernel, new PciDeviceReader(Root, PciIdDatabase.Empty), new BinderSettings(lockTimeout ?? TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200), requireRoot, CancellationToken.None));

    public PciDevice Device(string address) => new PciDeviceReader(Root, PciIdDatabase.Empty).Read(PciAddress.Parse(address))!;

    public (string? Driver, string? Override) State(string address) => (Kernel.CurrentDriver(address), Kernel.CurrentOverride(address));

    public void Dispose() => Host.Dispose();
}
