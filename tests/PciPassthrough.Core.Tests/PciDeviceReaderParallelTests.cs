using System.Text.Json;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// A host past the reader's threshold is read by several threads: the devices, their order and the diagnostics
/// must be those of reading each address one after another.
/// </summary>
public class PciDeviceReaderParallelTests
{
    private const int Functions = 600; // several 64-device chunks, above the 256-device threshold

    [Fact]
    public void A_large_host_reads_the_same_devices_and_diagnostics_as_one_device_at_a_time()
    {
        using var host = LargeHost();
        var root = new HostRoot(host.Root);
        var names = PciIdDatabaseLocator.Locate(root, null);

        var scan = new PciDeviceReader(root, names);
        var all = scan.ReadAll().ToList();

        var single = new PciDeviceReader(root, names);
        var expected = single.ListAddresses().Select(a => single.Read(a)).OfType<PciDevice>().ToList();

        Assert.Equal(Functions, all.Count);
        Assert.Equal(expected.Select(Json), all.Select(Json));
        Assert.NotEmpty(single.Diagnostics);
        Assert.Equal(single.Diagnostics, scan.Diagnostics);
    }

    [Fact]
    public void A_consumer_that_stops_early_leaves_the_reader_able_to_scan_again()
    {
        using var host = LargeHost();
        var root = new HostRoot(host.Root);
        var reader = new PciDeviceReader(root, PciIdDatabaseLocator.Locate(root, null));

        Assert.Equal("0000:10:00.0", reader.ReadAll().First().PciAddress);
        Assert.Equal(Functions, reader.ReadAll().Count());
    }

    [Fact]
    public void A_cancelled_scan_throws_and_progress_counts_every_address_in_order()
    {
        using var host = LargeHost();
        var root = new HostRoot(host.Root);
        var reader = new PciDeviceReader(root, PciIdDatabaseLocator.Locate(root, null));
        using var cancel = new CancellationTokenSource();
        var seen = new List<int>();

        Assert.ThrowsAny<OperationCanceledException>(() => reader.ReadAll((done, total) =>
        {
            seen.Add(done);
            if (done == 100)
            {
                cancel.Cancel();
            }
        }, cancel.Token).ToList());
        Assert.Equal(Enumerable.Range(1, 100), seen);
    }

    private static string Json(PciDevice d) => JsonSerializer.Serialize(d);

    // PFs with VFs on two buses; every 50th function has a vendor file that holds garbage (a diagnostic).
    private static FakeHost LargeHost()
    {
        var host = new FakeHost();
        for (var i = 0; i < Functions; i++)
        {
            var bus = 0x10 + (i / 256);
            var slot = (i % 256) / 8;
            var function = i % 8;
            var address = $"0000:{bus:x2}:{slot:x2}.{function}";
            var isPf = i % 64 == 0;
            var pf = $"0000:{bus:x2}:{(i - (i % 64)) % 256 / 8:x2}.0";
            host.Add(new FakeDevice(address)
            {
                Vendor = 0x15b3,
                Device = isPf ? 0x1017 : 0x1018,
                SubsystemVendor = 0x15b3,
                SubsystemDevice = 0x0020,
                Driver = i % 4 == 1 ? "mlx5_core" : "vfio-pci",
                IommuGroup = i,
                NumaNode = bus % 2,
                TotalVfs = isPf ? 63 : null,
                NumVfs = isPf ? 63 : null,
                PhysicalFunction = isPf ? null : pf,
                VfIndex = (i % 64) - 1,
                NetworkInterfaces = i % 4 == 1 ? [$"eth{i}"] : [],
            });
            if (i % 50 == 7)
            {
                File.WriteAllText(Path.Combine(host.DeviceDir(address), "vendor"), "garbage\n");
                File.Delete(Path.Combine(host.DeviceDir(address), "uevent")); // else the ids come from there
            }
        }

        return host;
    }
}
