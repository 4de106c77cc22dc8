using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Reset;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// Reset-PciDevice -Subordinate on the testbed-shaped tree (TopologyHost): root port 00:07.0 above the
/// x3130 switch 02:00.0 -> 03:00.0 -> e1000e 04:00.0. Every device below must pass the reset rules.
/// </summary>
public class SubordinateResetTests
{
    private const string Port = "0000:00:07.0";

    private static (PciResetter Resetter, PciDeviceReader Reader, ResetKernel Kernel, FakeHost Host) Make()
    {
        var host = TopologyTests.Testbed();
        foreach (var bridge in new[] { Port, "0000:00:05.0", "0000:02:00.0", "0000:03:00.0" })
        {
            File.WriteAllText(Path.Combine(host.DeviceDir(bridge), "reset_subordinate"), "");
        }

        var root = new HostRoot(host.Root);
        var reader = new PciDeviceReader(root, PciIdDatabase.Empty);
        var kernel = new ResetKernel(host);
        return (new PciResetter(root, kernel, reader), reader, kernel, host);
    }

    [Fact]
    public void Without_subordinate_a_bridge_is_refused_and_the_remedy_names_it()
    {
        var (resetter, reader, kernel, host) = Make();
        using var _ = host;
        var e = Assert.Throws<PciPassthroughException>(() => resetter.Reset(reader.Require(Port), null));
        Assert.Equal(ErrorIds.NotAnEndpoint, e.ErrorId);
        Assert.Contains($"Reset-PciDevice -Address {Port} -Subordinate", e.RecommendedAction);
        Assert.Empty(kernel.Writes);
    }

    [Fact]
    public void Everything_below_the_port_is_reset_with_one_write_to_reset_subordinate()
    {
        var (resetter, reader, kernel, host) = Make();
        using var _ = host;
        Assert.Equal(["0000:02:00.0", "0000:03:00.0", "0000:04:00.0"], resetter.CheckSubordinate(reader.Require(Port)).Select(d => d.PciAddress));
        var r = resetter.ResetSubordinate(reader.Require(Port));
        Assert.True(r.Succeeded);
        Assert.Equal(["0000:02:00.0", "0000:03:00.0", "0000:04:00.0"], r.DevicesBelow);
        Assert.Equal([($"/sys/bus/pci/devices/{Port}/reset_subordinate", "1")], kernel.Writes);
        Assert.Equal(["0000:04:00.0"], resetter.ResetSubordinate(reader.Require("0000:03:00.0")).DevicesBelow);
    }

    [Fact]
    public void A_device_below_held_by_a_guest_refuses_the_reset_and_is_named()
    {
        var (resetter, reader, kernel, host) = Make();
        using var _ = host;
        host.WriteFile("dev/vfio/10", "");
        host.AddProcess(4242, "qemu-system-x86", ["qemu-system-x86_64"], "/dev/vfio/10");
        var e = Assert.Throws<PciPassthroughException>(() => resetter.ResetSubordinate(reader.Require(Port)));
        Assert.Equal(ErrorIds.InUse, e.ErrorId);
        Assert.Contains("0000:04:00.0 is held by", e.Message);
        Assert.Contains("4242", e.Message);
        Assert.Empty(kernel.Writes);
    }

    [Fact]
    public void A_host_critical_device_below_refuses_the_reset_and_is_named()
    {
        var (resetter, reader, kernel, host) = Make();
        using var _ = host;
        Directory.CreateDirectory(Path.Combine(host.DeviceDir("0000:04:00.0"), "net", "ens4"));
        host.WriteFile("proc/net/route", "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\nens4\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n");
        var e = Assert.Throws<PciPassthroughException>(() => resetter.CheckSubordinate(reader.Require(Port)));
        Assert.Equal(ErrorIds.HostCritical, e.ErrorId);
        Assert.Contains("0000:04:00.0", e.Message);
        Assert.Contains("NotDefaultRouteInterface", e.Message);
        Assert.Empty(kernel.Writes);
    }

    [Fact]
    public void Without_reset_subordinate_or_on_an_endpoint_the_reset_is_not_supported()
    {
        var (resetter, reader, kernel, host) = Make();
        using var _ = host;
        var noFile = Assert.Throws<PciPassthroughException>(() => resetter.ResetSubordinate(reader.Require("0000:00:09.0")));
        Assert.Equal(ErrorIds.ResetNotSupported, noFile.ErrorId);
        Assert.Contains("reset_subordinate", noFile.Message);
        var endpoint = Assert.Throws<PciPassthroughException>(() => resetter.ResetSubordinate(reader.Require("0000:01:00.0")));
        Assert.Equal(ErrorIds.ResetNotSupported, endpoint.ErrorId);
        Assert.Contains("is no bridge", endpoint.Message);
        Assert.Empty(kernel.Writes);
    }

    [Fact]
    public void A_hanging_subordinate_reset_times_out()
    {
        var (resetter, reader, kernel, host) = Make();
        using var _ = host;
        using var hang = new ManualResetEventSlim(false);
        kernel.Hang = hang;
        resetter.WriteTimeout = TimeSpan.FromMilliseconds(200);
        var e = Assert.Throws<PciPassthroughException>(() => resetter.ResetSubordinate(reader.Require(Port)));
        hang.Set();
        Assert.Equal(ErrorIds.ResetTimedOut, e.ErrorId);
        Assert.Contains("reset_subordinate", e.Message);
    }
}
