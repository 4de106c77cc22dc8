using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Reset;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// Reset-PciDevice never resets an NVIDIA vGPU VF in vendor mode (a 10de VF without /sys/class/mdev_bus
/// entry, OpenNebula's MDEV_MODE nvidia), not even when it is free and the method is given; a legacy (mdev)
/// VF and a VF of another vendor are not this refusal.
/// </summary>
public class VgpuResetTests
{
    private static FakeHost Host()
    {
        var host = new FakeHost()
            .Add(new FakeDevice("0000:41:00.0") { Vendor = 0x10de, Device = 0x2236, ClassCode = 0x030200, Driver = "nvidia", TotalVfs = 16, NumVfs = 2, IommuGroup = 40, ResetMethods = "flr bus" })
            .Add(new FakeDevice("0000:41:00.4") { Vendor = 0x10de, Device = 0x2236, ClassCode = 0x030200, Driver = "nvidia", PhysicalFunction = "0000:41:00.0", VfIndex = 0, IommuGroup = 41, ResetMethods = "flr" })
            .Add(new FakeDevice("0000:41:00.5") { Vendor = 0x10de, Device = 0x2236, ClassCode = 0x030200, Driver = "nvidia", PhysicalFunction = "0000:41:00.0", VfIndex = 1, IommuGroup = 42, ResetMethods = "flr" })
            .Add(new FakeDevice("0000:03:00.0") { Vendor = 0x8086, Device = 0x1520, TotalVfs = 7, NumVfs = 1, IommuGroup = 3 })
            .Add(new FakeDevice("0000:03:10.0") { Vendor = 0x8086, Device = 0x1520, PhysicalFunction = "0000:03:00.0", IommuGroup = 4, ResetMethods = "flr" });
        Directory.CreateDirectory(Path.Combine(host.Root, "sys/class/mdev_bus/0000:41:00.5"));
        return host;
    }

    [Theory]
    [InlineData("0000:41:00.4", null, "VgpuVirtualFunction")]
    [InlineData("0000:41:00.4", "flr", "VgpuVirtualFunction")]
    [InlineData("0000:41:00.5", null, null)]
    [InlineData("0000:03:10.0", null, null)]
    public void A_vendor_mode_vgpu_vf_is_never_reset(string address, string? method, string? errorId)
    {
        using var host = Host();
        var root = new HostRoot(host.Root);
        var reader = new PciDeviceReader(root, PciIdDatabase.Empty);
        var kernel = new ResetKernel(host) { Supported = ["flr"] };
        var resetter = new PciResetter(root, kernel, reader);
        var device = reader.Require(address);
        if (errorId is null)
        {
            Assert.False(resetter.IsVendorModeVgpuVf(device));
            Assert.True(resetter.Reset(device, method is null ? null : [method]).Succeeded);
            return;
        }

        Assert.True(resetter.IsVendorModeVgpuVf(device));
        var e = Assert.Throws<PciPassthroughException>(() => resetter.Reset(device, method is null ? null : [method]));
        Assert.Equal(errorId, e.ErrorId);
        Assert.Contains("vendor mode", e.Message);
        Assert.NotNull(e.RecommendedAction);
        Assert.Empty(kernel.Writes);
    }
}
