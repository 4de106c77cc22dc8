using PciPassthrough.TestSupport;

namespace PciPassthrough.Bench;

/// <summary>
/// Writes a synthetic, SR-IOV heavy host of exactly <c>count</c> PCI functions with <see cref="FakeHost"/>:
/// per PCI domain a host bridge, one root port per NIC bus, one boot VGA; every NIC bus holds 256
/// functions in four 64-function blocks, each either one PF with 63 VFs (ConnectX-5, X710) or eight
/// i350 PFs with 7 VFs each. Every function has its own IOMMU group, a NUMA node and a cpu list; three
/// VFs in four are bound to vfio-pci (no netdev), the fourth and every PF to the host driver with a
/// netdev. All ids are in pci.ids, so every name resolves, and every device has a matching config file.
/// </summary>
internal static class SriovTree
{
    private const int FunctionsPerBus = 256;
    private const int FunctionsPerBlock = 64;
    private const int BusesPerDomain = 32;
    private const int FirstNicBus = 0x18;

    private static readonly Nic ConnectX5 = new(0x15b3, 0x1017, 0x1018, 0x15b3, 0x0020, 0x15b3, 0x0020, 0x00, 64, 63, "mlx5_core", "mlx5_core");
    private static readonly Nic X710 = new(0x8086, 0x1572, 0x154c, 0x1137, 0x020a, 0x8086, 0x0000, 0x02, 64, 63, "i40e", "iavf");
    private static readonly Nic I350 = new(0x8086, 0x1521, 0x1520, 0x8086, 0x0001, 0x8086, 0x0000, 0x01, 7, 7, "igb", "igbvf");

    /// <summary>The number of PFs and VFs written, for the report.</summary>
    public sealed record Shape(int Devices, int Domains, int NicBuses, int PhysicalFunctions, int VirtualFunctions, int VfioBound);

    public static (FakeHost Host, Shape Shape) Create(int count)
    {
        if (count < 8)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "A benchmark tree has at least 8 devices.");
        }

        // Platform functions (host bridges, root ports, VGA) depend on the bus count and the other way round.
        var nicBuses = 0;
        int domains, nicFunctions;
        while (true)
        {
            domains = Math.Max(1, (nicBuses + BusesPerDomain - 1) / BusesPerDomain);
            nicFunctions = count - (domains + nicBuses + 1);
            var needed = (nicFunctions + FunctionsPerBus - 1) / FunctionsPerBus;
            if (needed <= nicBuses)
            {
                break;
            }

            nicBuses = needed;
        }

        var host = new FakeHost();
        if (host.Root.StartsWith("/sys", StringComparison.Ordinal) || host.Root == "/")
        {
            throw new InvalidOperationException($"Refusing to write a tree at '{host.Root}'.");
        }

        try
        {
            var group = 0;
            int pfs = 0, vfs = 0, vfio = 0;
            for (var d = 0; d < domains; d++)
            {
                host.Add(new FakeDevice(Address(d, 0, 0, 0))
                {
                    Vendor = 0x8086, Device = 0x2020, ClassCode = 0x060000, Revision = 0x04,
                    SubsystemVendor = 0x15d9, SubsystemDevice = 0x095d, IommuGroup = group++, NumaNode = d % 2, LocalCpuList = CpuList(d % 2),
                });
                var busesHere = Math.Min(BusesPerDomain, nicBuses - (d * BusesPerDomain));
                for (var r = 0; r < busesHere; r++)
                {
                    host.Add(new FakeDevice(Address(d, 0, 1 + (r / 8), r % 8))
                    {
                        Vendor = 0x8086, Device = 0x2030, ClassCode = 0x060400, HeaderType = 1, Revision = 0x04, MultiFunction = r % 8 == 0,
                        Driver = "pcieport", IommuGroup = group++, NumaNode = d % 2, LocalCpuList = CpuList(d % 2),
                    });
                }
            }

            host.Add(new FakeDevice(Address(0, 0, 0x10, 0))
            {
                Vendor = 0x1a03, Device = 0x2000, ClassCode = 0x030000, Revision = 0x41, SubsystemVendor = 0x15d9, SubsystemDevice = 0x095d,
                Driver = "ast", IommuGroup = group++, NumaNode = 0, LocalCpuList = CpuList(0), BootVga = true,
            });

            var written = 0;
            for (var b = 0; b < nicBuses && written < nicFunctions; b++)
            {
                var domain = b / BusesPerDomain;
                var bus = FirstNicBus + (b % BusesPerDomain);
                var node = b % 2;
                for (var j = 0; j < FunctionsPerBus && written < nicFunctions; j++)
                {
                    var block = (b * (FunctionsPerBus / FunctionsPerBlock)) + (j / FunctionsPerBlock);
                    var nic = (block % 4) switch { 0 or 1 => ConnectX5, 2 => X710, _ => I350 };
                    var span = nic.MaxVfs + 1; // a PF and its VFs: 64 functions, or 8 for an i350 port
                    var index = j % span;
                    var slot = j / 8;
                    var function = j % 8;
                    var address = Address(domain, bus, slot, function);
                    var pfAddress = Address(domain, bus, (j - index) / 8, (j - index) % 8);
                    var ifname = $"enP{domain}p{bus}s{slot}f{function}";
                    if (index == 0)
                    {
                        var vfsHere = Math.Min(nic.MaxVfs, nicFunctions - written - 1);
                        host.Add(new FakeDevice(address)
                        {
                            Vendor = nic.Vendor, Device = nic.Pf, ClassCode = 0x020000, Revision = nic.Revision,
                            SubsystemVendor = nic.PfSubVendor, SubsystemDevice = nic.PfSubDevice, MultiFunction = vfsHere > 0,
                            Driver = nic.PfDriver, IommuGroup = group++, NumaNode = node, LocalCpuList = CpuList(node),
                            TotalVfs = nic.TotalVfs, NumVfs = vfsHere, NetworkInterfaces = [ifname + "np0"],
                        });
                        pfs++;
                    }
                    else
                    {
                        var vfIndex = index - 1;
                        var onHost = vfIndex % 4 == 0;
                        host.Add(new FakeDevice(address)
                        {
                            Vendor = nic.Vendor, Device = nic.Vf, ClassCode = 0x020000, Revision = nic.Revision,
                            SubsystemVendor = nic.VfSubVendor, SubsystemDevice = nic.VfSubDevice,
                            Driver = onHost ? nic.VfDriver : "vfio-pci", DriverOverride = onHost ? null : "vfio-pci",
                            IommuGroup = group++, NumaNode = node, LocalCpuList = CpuList(node),
                            PhysicalFunction = pfAddress, VfIndex = vfIndex, NetworkInterfaces = onHost ? [ifname + "v" + vfIndex] : [],
                        });
                        vfs++;
                        vfio += onHost ? 0 : 1;
                    }

                    written++;
                }
            }

            var total = Directory.GetFileSystemEntries(Path.Combine(host.Root, "sys/bus/pci/devices")).Length;
            if (total != count)
            {
                throw new InvalidOperationException($"The tree holds {total} devices, not {count}.");
            }

            // A Debian host has udev's hwdb, and lspci on the tree reads this machine's: the tree gets the same one
            // (a link), so the module names unknown VF subsystems as that lspci does.
            if (PciPassthrough.Ids.UdevHwdb.Paths.FirstOrDefault(File.Exists) is string hwdb)
            {
                Directory.CreateDirectory(Path.Combine(host.Root, "usr/lib/udev"));
                File.CreateSymbolicLink(Path.Combine(host.Root, "usr/lib/udev/hwdb.bin"), hwdb);
            }

            return (host, new Shape(count, domains, nicBuses, pfs, vfs, vfio));
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    private static string Address(int domain, int bus, int slot, int function) =>
        new PciAddress(domain, bus, slot, function).ToString();

    private static string CpuList(int node) => node == 0 ? "0-15,32-47" : "16-31,48-63";

    private sealed record Nic(
        int Vendor, int Pf, int Vf, int PfSubVendor, int PfSubDevice, int VfSubVendor, int VfSubDevice, int Revision,
        int TotalVfs, int MaxVfs, string PfDriver, string VfDriver);
}
