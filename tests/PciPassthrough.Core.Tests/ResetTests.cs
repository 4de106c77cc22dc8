using PciPassthrough.Binding;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Iommu;
using PciPassthrough.Readiness;
using PciPassthrough.Reset;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Core.Tests;

/// <summary>A kernel that records writes into the fixture files, refuses methods it is told to, and can hang.</summary>
internal sealed class ResetKernel(FakeHost host) : IKernel
{
    public List<(string Path, string Value)> Writes { get; } = [];

    public string[] Supported { get; set; } = ["pm", "bus"];

    public ManualResetEventSlim? Hang { get; set; }

    public void Write(string hostPath, string value)
    {
        Writes.Add((hostPath, value));
        if (hostPath.EndsWith("/reset", StringComparison.Ordinal) || hostPath.EndsWith("/reset_subordinate", StringComparison.Ordinal))
        {
            Hang?.Wait();
            return;
        }

        var words = value.TrimEnd('\n').Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length > 0 && words[0] != "default" && words.Any(w => !Supported.Contains(w)))
        {
            throw new IOException("Invalid argument", 22);
        }

        File.WriteAllText(Path.Combine(host.Root, hostPath.TrimStart('/')), (words.FirstOrDefault() == "default" ? string.Join(' ', Supported) : string.Join(' ', words)) + "\n");
    }

    public bool LoadModule(string name) => false;
}

public class ResetTests
{
    private static (PciResetter Resetter, PciDeviceReader Reader, ResetKernel Kernel) Make(FakeHost host)
    {
        var root = new HostRoot(host.Root);
        var reader = new PciDeviceReader(root, PciIdDatabase.Empty);
        var kernel = new ResetKernel(host);
        return (new PciResetter(root, kernel, reader), reader, kernel);
    }

    private static string Methods(FakeHost host, string a) => File.ReadAllText(Path.Combine(host.DeviceDir(a), "reset_method"));

    [Fact]
    public void Reset_methods_and_can_reset_are_read_from_sysfs()
    {
        using var host = TopologyTests.Testbed();
        host.Add(new FakeDevice("0000:00:0b.0") { IommuGroup = 20, ResetMethods = "" });
        var (_, reader, _) = Make(host);
        var e1000e = reader.Require("0000:01:00.0");
        Assert.Equal(["pm", "bus"], e1000e.ResetMethods);
        Assert.True(e1000e.CanReset);
        var rootBusE1000 = reader.Require("0000:00:02.0");
        Assert.Empty(rootBusE1000.ResetMethods);
        Assert.False(rootBusE1000.CanReset);
        var disabled = reader.Require("0000:00:0b.0");
        Assert.Empty(disabled.ResetMethods);
        Assert.False(disabled.CanReset);
        File.Delete(Path.Combine(host.DeviceDir("0000:01:00.0"), "reset_method"));
        Assert.Equal(["unknown"], reader.Require("0000:01:00.0").ResetMethods); // a kernel before 5.15
    }

    [Fact]
    public void A_reset_with_methods_restricts_reset_method_for_the_call_and_restores_it()
    {
        using var host = TopologyTests.Testbed();
        var (resetter, reader, kernel) = Make(host);
        var result = resetter.Reset(reader.Require("0000:01:00.0"), ["bus"]);
        Assert.True(result.Succeeded);
        Assert.Equal(["bus"], result.MethodsTried);
        Assert.Equal(
            [("/sys/bus/pci/devices/0000:01:00.0/reset_method", "bus\n"), ("/sys/bus/pci/devices/0000:01:00.0/reset", "1"), ("/sys/bus/pci/devices/0000:01:00.0/reset_method", "pm bus\n")],
            kernel.Writes);
        Assert.Equal("pm bus\n", Methods(host, "0000:01:00.0"));
    }

    [Fact]
    public void The_previous_methods_are_restored_when_the_reset_fails()
    {
        using var host = TopologyTests.Testbed();
        var (resetter, reader, kernel) = Make(host);
        var failing = new FailingResetKernel(kernel);
        var r = new PciResetter(new HostRoot(host.Root), failing, reader);
        var e = Assert.Throws<PciPassthroughException>(() => r.Reset(reader.Require("0000:01:00.0"), ["pm"]));
        Assert.Equal(ErrorIds.ResetFailed, e.ErrorId);
        Assert.Equal("pm bus\n", Methods(host, "0000:01:00.0"));
    }

    private sealed class FailingResetKernel(ResetKernel inner) : IKernel
    {
        public void Write(string hostPath, string value)
        {
            if (hostPath.EndsWith("/reset", StringComparison.Ordinal) || hostPath.EndsWith("/reset_subordinate", StringComparison.Ordinal))
            {
                throw new IOException("Inappropriate ioctl for device", 25);
            }

            inner.Write(hostPath, value);
        }

        public bool LoadModule(string name) => false;
    }

    [Theory]
    [InlineData("0000:00:05.0", null, "DeviceIsNotAnEndpoint")]
    [InlineData("0000:00:02.0", null, "ResetNotSupported")]
    [InlineData("0000:05:01.0", null, "BusResetAffectsOthers")]
    [InlineData("0000:01:00.0", "nonsense", "ResetMethodUnsupported")]
    public void Refusals_carry_their_error_ids(string address, string? method, string errorId)
    {
        using var host = TopologyTests.Testbed();
        var (resetter, reader, kernel) = Make(host);
        var e = Assert.Throws<PciPassthroughException>(() => resetter.Reset(reader.Require(address), method is null ? null : [method]));
        Assert.Equal(errorId, e.ErrorId);
        Assert.Empty(kernel.Writes);
    }

    [Fact]
    public void A_device_held_by_a_guest_and_the_boot_vga_are_refused()
    {
        using var host = TopologyTests.Testbed();
        host.Add(new FakeDevice("0000:00:01.0") { ClassCode = 0x030000, BootVga = true, IommuGroup = 1 });
        host.Add(new FakeDevice("0000:00:03.0") { Driver = "vfio-pci", IommuGroup = 3 });
        host.WriteFile("dev/vfio/3", "");
        host.AddProcess(4242, "qemu-system-x86", ["qemu-system-x86_64"], "/dev/vfio/3");
        var (resetter, reader, _) = Make(host);
        Assert.Equal(ErrorIds.InUse, Assert.Throws<PciPassthroughException>(() => resetter.Check(reader.Require("0000:00:03.0"), null)).ErrorId);
        var vga = Assert.Throws<PciPassthroughException>(() => resetter.Check(reader.Require("0000:00:01.0"), null));
        Assert.Equal(ErrorIds.HostCritical, vga.ErrorId);
        Assert.Contains("NotBootVga", vga.Message);
    }

    [Fact]
    public void The_kernels_einval_is_reset_method_unsupported_and_disable_writes_a_newline()
    {
        using var host = TopologyTests.Testbed();
        var (resetter, reader, kernel) = Make(host);
        var d = reader.Require("0000:01:00.0");
        Assert.Equal(ErrorIds.ResetMethodUnsupported, Assert.Throws<PciPassthroughException>(() => resetter.WriteMethods(d, "flr\n")).ErrorId);
        resetter.WriteMethods(d, "\n");
        Assert.Equal("\n", kernel.Writes[^1].Value);
        Assert.False(reader.Require("0000:01:00.0").CanReset);
        Assert.Equal(ErrorIds.ResetNotSupported, Assert.Throws<PciPassthroughException>(() => resetter.Check(reader.Require("0000:01:00.0"), null)).ErrorId);
        resetter.WriteMethods(d, "default\n");
        Assert.Equal("pm bus\n", Methods(host, "0000:01:00.0"));
    }

    [Fact]
    public void A_hanging_reset_times_out()
    {
        using var host = TopologyTests.Testbed();
        var (resetter, reader, kernel) = Make(host);
        using var hang = new ManualResetEventSlim(false);
        kernel.Hang = hang;
        resetter.WriteTimeout = TimeSpan.FromMilliseconds(200);
        var e = Assert.Throws<PciPassthroughException>(() => resetter.Reset(reader.Require("0000:01:00.0"), null));
        hang.Set();
        Assert.Equal(ErrorIds.ResetTimedOut, e.ErrorId);
    }

    [Theory]
    [InlineData("0000:01:00.0", CheckStatus.Warning, "pm bus")]
    [InlineData("0000:04:00.0", CheckStatus.Pass, "flr")]
    [InlineData("0000:00:02.0", CheckStatus.Fail, "no reset")]
    [InlineData("0000:00:05.0", CheckStatus.NotApplicable, "bridge")]
    public void Readiness_reports_the_reset_capability(string address, CheckStatus status, string text)
    {
        using var host = TopologyTests.Testbed();
        var root = new HostRoot(host.Root);
        var reader = new PciDeviceReader(root, PciIdDatabase.Empty);
        var finding = new PassthroughReadinessInspector(root, reader).Assess(reader.Require(address)).Findings.Single(f => f.Name == "ResetCapability");
        Assert.Equal(status, finding.Status);
        Assert.Contains(text, finding.Detail, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Readiness_explains_a_shared_group_and_warns_about_acs_overrides()
    {
        using var host = TopologyTests.Testbed();
        host.WriteFile("proc/cmdline", "intel_iommu=on pcie_acs_override=downstream\n");
        var root = new HostRoot(host.Root);
        var reader = new PciDeviceReader(root, PciIdDatabase.Empty);
        var r = new PassthroughReadinessInspector(root, reader).Assess(reader.Require("0000:05:01.0"));
        var isolation = r.Findings.Single(f => f.Name == "GroupIsolation");
        Assert.Contains("BehindConventionalPciBridge 0000:00:08.0", isolation.Detail);
        Assert.Equal(CheckStatus.Warning, r.Findings.Single(f => f.Name == "AcsOverride").Status);
    }

    [Fact]
    public void Readiness_names_the_port_that_shares_an_otherwise_lone_devices_group_and_why()
    {
        using var host = TopologyTests.Testbed();
        var root = new HostRoot(host.Root);
        var reader = new PciDeviceReader(root, PciIdDatabase.Empty);
        var inspector = new PassthroughReadinessInspector(root, reader);
        var isolation = inspector.Assess(reader.Require("0000:07:00.0")).Findings.Single(f => f.Name == "GroupIsolation");
        Assert.Equal(CheckStatus.Pass, isolation.Status);
        Assert.StartsWith("Alone in IOMMU group 13 but for the bridge 0000:00:0a.0, which stays with the host. Why: AcsDisabledOnPort 0000:00:0a.0: ", isolation.Detail);
        Assert.Equal("Alone in IOMMU group 7.", inspector.Assess(reader.Require("0000:01:00.0")).Findings.Single(f => f.Name == "GroupIsolation").Detail);
    }
}
