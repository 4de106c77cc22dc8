using PciPassthrough.Host;
using PciPassthrough.HostFs;
using PciPassthrough.Iommu;
using PciPassthrough.OpenNebula.HostAttributes;
using PciPassthrough.OpenNebula.Placement;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// OpenNebula's books (onehost show -x: VMID per device, -1 free) against who holds each device's
/// /dev/vfio/N on the host (QEMU as -name guest=one-ID). One fake host with every case; the expected
/// state per device is written by hand from the case it was built for.
/// </summary>
public class AssignmentDriftTests
{
    private const string Books = """
        <HOST><ID>4</ID><NAME>hv1</NAME><HOST_SHARE><PCI_DEVICES>
          <PCI><ADDRESS>0000:01:00:0</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2330</DEVICE><CLASS>0302</CLASS><VMID>7</VMID></PCI>
          <PCI><ADDRESS>0000:02:00:0</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2330</DEVICE><CLASS>0302</CLASS><VMID>8</VMID></PCI>
          <PCI><ADDRESS>0000:03:00:0</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2330</DEVICE><CLASS>0302</CLASS><VMID>-1</VMID></PCI>
          <PCI><ADDRESS>0000:04:00:0</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2330</DEVICE><CLASS>0302</CLASS><VMID>10</VMID></PCI>
          <PCI><ADDRESS>0000:05:00:0</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2330</DEVICE><CLASS>0302</CLASS><VMID>-1</VMID></PCI>
          <PCI><ADDRESS>0000:06:00:0</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2330</DEVICE><CLASS>0302</CLASS><VMID>12</VMID></PCI>
          <PCI><ADDRESS>0000:06:00:1</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2330</DEVICE><CLASS>0302</CLASS><VMID>-1</VMID></PCI>
          <PCI><ADDRESS>0000:08:00:0</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2330</DEVICE><CLASS>0302</CLASS><VMID>-1</VMID></PCI>
        </PCI_DEVICES></HOST_SHARE></HOST>
        """;

    internal static FakeHost Host()
    {
        var host = new FakeHost();
        foreach (var (bus, group) in new[] { (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (7, 7), (8, 8) })
        {
            host.Add(new FakeDevice($"0000:0{bus}:00.0") { Vendor = 0x10de, Device = 0x2330, ClassCode = 0x030200, Driver = "vfio-pci", IommuGroup = group });
            host.WriteFile($"dev/vfio/{group}", "");
        }

        return host
            .AddProcess(101, "qemu-kvm-one", ["qemu", "-name", "guest=one-7,debug-threads=on"], "/dev/vfio/1")
            .AddProcess(103, "qemu-kvm-one", ["qemu", "-name", "guest=one-9"], "/dev/vfio/3")
            .AddProcess(104, "qemu-kvm-one", ["qemu", "-name", "guest=one-11"], "/dev/vfio/4")
            .AddProcess(105, "vfio-test", ["vfio-test"], "/dev/vfio/5")
            .AddProcess(107, "qemu-kvm-one", ["qemu", "-name", "guest=one-13"], "/dev/vfio/7");
    }

    [Fact]
    public void Every_device_gets_the_state_of_the_case_it_was_built_for()
    {
        using var host = Host();
        var drift = PciAssignmentDriftChecker.Check(new HostSession(new HostRoot(host.Root)), HostInventoryXml.Read(Books)[0]);
        Assert.Equal(
            [
                "0000:01:00.0 7 [7] Consistent Pass",
                "0000:02:00.0 8 [] ReservedNotHeld Warning",
                "0000:03:00.0 -1 [9] HeldByUnrecordedVm Fail",
                "0000:04:00.0 10 [11] HeldByOtherVm Fail",
                "0000:05:00.0 -1 [] HeldOutsideOpenNebula Fail",
                "0000:06:00.0 12 [] MissingOnHost Fail",
                "0000:06:00.1 -1 [] MissingOnHost Warning",
                "0000:07:00.0 - [13] NotInOpenNebula Warning",
                "0000:08:00.0 -1 [] Consistent Pass",
            ],
            drift.Select(d => $"{d.PciAddress} {d.OpenNebulaVmId?.ToString() ?? "-"} [{string.Join(",", d.HeldByVmIds)}] {d.State} {d.Status}"));
        Assert.All(drift.Where(d => d.Status != CheckStatus.Pass), d => Assert.False(string.IsNullOrEmpty(d.RecommendedAction)));
        var outside = drift.Single(d => d.State == PciAssignmentState.HeldOutsideOpenNebula);
        Assert.Equal("0000:05:00.0 is held by vfio-test[105] (/dev/vfio/5), which is not an OpenNebula VM; OpenNebula lists the device as free and may give it to a VM, whose start then fails.", outside.Message);
        Assert.Contains("onedb fsck", drift.Single(d => d.State == PciAssignmentState.ReservedNotHeld).RecommendedAction);
        Assert.Equal("hv1", drift[0].HostName);
    }
}
