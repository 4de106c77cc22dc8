using PciPassthrough.HostFs;
using PciPassthrough.Ids;

namespace PciPassthrough.Core.Tests;

/// <summary>pci.ids as a hostile or broken tree holds it (D16, D21); lspci is the oracle for names.</summary>
public class PciIdsHostileTests
{
    // A bare CR inside a name, and CRLF line ends: lspci splits at \n only and ends a line at its first \r.
    private const string Ids = "10de  NVIDIA Corporation\r\n\t0192  G80\r[GeForce 8800 GTS]\n\t20b5  GA100 [A100 PCIe 80GB]\n\t1eb8  TU104GL [Tesla T4]\r\n8086  Intel Corporation\n\t100e  82540EM Gigabit Ethernet Controller\n";

    [Theory]
    [InlineData(0x10de, 0x0192)]
    [InlineData(0x10de, 0x20b5)]
    [InlineData(0x10de, 0x1eb8)]
    [InlineData(0x8086, 0x100e)]
    public void Names_agree_with_lspci_on_a_file_with_bare_and_crlf_line_ends(int vendor, int device)
    {
        Assert.True(Lspci.IsInstalled, Lspci.MissingMessage);
        using var host = new FakeHost();
        var ids = host.WriteFile("usr/share/misc/pci.ids", Ids);
        // lspci -F reads a config-space dump: vendor and device ids, little-endian, in the first four bytes.
        var dump = host.WriteFile("dump.txt", $"10:00.0 x\n00: {vendor & 0xff:x2} {vendor >> 8:x2} {device & 0xff:x2} {device >> 8:x2} 00 00 00 00 a1 00 02 03 00 00 00 00\n\n");
        var record = Lspci.ParseMachineReadable(Lspci.Run("-F", dump, "-i", ids, "-vmm").Output).Single();

        var db = PciIdDatabase.Load(ids);
        Assert.Equal(record["Vendor"], db.FindVendor(vendor));
        Assert.Equal(record["Device"], db.FindDevice(vendor, device));
    }

    [Fact]
    public void A_fifo_or_device_node_in_pci_ids_place_is_an_error_naming_the_file_not_a_hang()
    {
        using var host = new FakeHost();
        var path = Path.Combine(host.Root, "usr/share/misc/pci.ids");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", path))
        {
            mkfifo.WaitForExit();
        }

        var e = Assert.Throws<PciPassthroughException>(() => PciIdDatabaseLocator.Locate(new HostRoot(host.Root), null));
        Assert.Equal(ErrorIds.PciIdsUnreadable, e.ErrorId);
        Assert.Contains("FIFO", e.Message);
        Assert.Contains(path, e.Message);

        var zero = Assert.Throws<PciPassthroughException>(() => PciIdDatabaseLocator.Locate(new HostRoot(host.Root), "/dev/zero"));
        Assert.Equal(ErrorIds.PciIdsUnreadable, zero.ErrorId);
        Assert.Contains("character device", zero.Message);
    }

    [Fact]
    public void A_dangling_pci_ids_link_is_as_good_as_missing()
    {
        using var host = new FakeHost();
        Directory.CreateDirectory(Path.Combine(host.Root, "usr/share/misc"));
        host.Link("usr/share/misc/pci.ids", "../hwdata/pci.ids");
        var fallback = PciIdDatabase.WellKnownPaths.FirstOrDefault(File.Exists);

        var db = PciIdDatabaseLocator.Locate(new HostRoot(host.Root), null);

        Assert.Equal(fallback is null ? null : Path.GetFullPath(fallback), db.SourcePath);
    }
}
