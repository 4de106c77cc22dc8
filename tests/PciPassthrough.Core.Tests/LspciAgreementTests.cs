using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// The inventory must say what lspci says: on this machine's real /sys (read-only) and on a generated
/// tree that lspci reads through its sysfs backend.
/// </summary>
public class LspciAgreementTests
{
    [Fact]
    public void The_real_host_shows_the_same_devices_ids_classes_drivers_and_names_as_lspci()
    {
        Assert.True(Lspci.IsInstalled, Lspci.MissingMessage);
        var root = new HostRoot("/");
        var ours = new PciDeviceReader(root, PciIdDatabaseLocator.Locate(root, null)).ReadAll().ToList();
        var (exit, output, error) = Lspci.RunWithHwdb("-vmm", "-nn", "-D", "-k"); // as users run it: the module follows this host's hwdb too
        Assert.True(exit == 0, error);
        AssertAgree(Lspci.ParseMachineReadable(output), ours);
    }

    [Fact]
    public void A_generated_tree_shows_the_same_devices_ids_classes_drivers_and_names_as_lspci()
    {
        Assert.True(Lspci.IsInstalled, Lspci.MissingMessage);
        using var host = SampleHost.Create();
        var root = new HostRoot(host.Root);
        var ours = new PciDeviceReader(root, PciIdDatabaseLocator.Locate(root, null)).ReadAll().ToList();
        var (exit, output, error) = Lspci.Run(Lspci.ForTree(host, "-vmm", "-nn", "-D", "-k"));
        Assert.True(exit == 0, error);
        AssertAgree(Lspci.ParseMachineReadable(output), ours);
    }

    private static void AssertAgree(List<Dictionary<string, string>> lspci, List<PciDevice> ours)
    {
        Assert.NotEmpty(lspci);
        Assert.Equal(lspci.Select(r => r["Slot"]), ours.Select(d => d.PciAddress));
        foreach (var (r, d) in lspci.Zip(ours))
        {
            Assert.Equal(r["Class"], Lspci.WithId(d.ClassName, d.Class));
            Assert.Equal(r["Vendor"], Lspci.WithId(d.VendorName, d.VendorId));
            Assert.Equal(r["Device"], Lspci.WithId(d.DeviceName, d.DeviceId));
            Assert.Equal(r.GetValueOrDefault("SVendor"), d.SubsystemVendorName is null ? null : Lspci.WithId(d.SubsystemVendorName, d.SubsystemVendorId));
            Assert.Equal(r.GetValueOrDefault("SDevice"), d.SubsystemName is null ? null : Lspci.WithId(d.SubsystemName, d.SubsystemId));
            Assert.Equal(r.GetValueOrDefault("Rev"), d.Revision == "00" ? null : d.Revision);
            Assert.Equal(r.GetValueOrDefault("ProgIf", "00"), d.ProgIf);
            Assert.Equal(r.GetValueOrDefault("Driver"), d.Driver);
        }
    }
}
