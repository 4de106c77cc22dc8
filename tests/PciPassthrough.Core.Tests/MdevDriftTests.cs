using PciPassthrough.HostFs;
using PciPassthrough.Iommu;
using PciPassthrough.Mdev;

namespace PciPassthrough.Core.Tests;

public class MdevDriftTests
{
    private const string Auto = "{\"mdev_type\":\"mtty-1\",\"start\":\"auto\",\"attrs\":[]}";

    // Debian 12's mdevctl 1.2.0-1 rule, as /lib/udev/rules.d/60-mdevctl.rules ships it (LAB L21).
    private const string DebianRule = "ACTION==\"change\", ENV{MDEV_STATE}==\"registered\", TEST==\"/etc/mdevctl.d/$kernel\", RUN+=\"/bin/sh -c '{ /usr/sbin/mdevctl start-parent-mdevs %k 2>&3 | logger -t mdevctl; } 3>&1 1>&2 | logger -t mdevctl -p 2'\"\n";

    private static Dictionary<string, ReadinessCheck> Check(FakeHost host) => MediatedDeviceDrift.Check(new HostRoot(host.Root)).ToDictionary(c => c.Name);

    [Fact]
    public void A_consistent_host_passes_and_a_host_without_mdevctl_has_no_rule_to_judge()
    {
        using var host = MdevHost.Create();
        var checks = Check(host);
        Assert.All(checks.Values.Where(c => c.Name != "MdevctlUdevRuleBroken"), c => Assert.Equal(CheckStatus.Pass, c.Status));
        Assert.Equal(CheckStatus.NotApplicable, checks["MdevctlUdevRuleBroken"].Status);
    }

    [Fact]
    public void Each_kind_of_drift_is_its_own_finding_naming_the_devices()
    {
        using var host = MdevHost.Create();
        const string notStarted = "aaaaaaaa-0000-0000-0000-000000000001";
        const string undefined = "aaaaaaaa-0000-0000-0000-000000000002";
        const string wrongType = "aaaaaaaa-0000-0000-0000-000000000003";
        const string orphan = "aaaaaaaa-0000-0000-0000-000000000004";
        host.WriteFile($"etc/mdevctl.d/mtty/{notStarted}", Auto);
        MdevHost.AddInstance(host, MdevHost.Mtty, "mtty-1", undefined, 16);
        MdevHost.AddInstance(host, MdevHost.Mtty, "mtty-2", wrongType, 17);
        host.WriteFile($"etc/mdevctl.d/mtty/{wrongType}", Auto);
        host.WriteFile($"etc/mdevctl.d/0000:81:00.4/{orphan}", Auto);

        var checks = Check(host);
        Assert.Equal(CheckStatus.Warning, checks["DefinedNotActive"].Status);
        Assert.Contains(notStarted, checks["DefinedNotActive"].Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(orphan, checks["DefinedNotActive"].Detail, StringComparison.Ordinal); // its parent is missing: that finding says so
        Assert.Equal(CheckStatus.Warning, checks["ActiveNotDefined"].Status);
        Assert.Contains(undefined, checks["ActiveNotDefined"].Detail, StringComparison.Ordinal);
        Assert.Equal(CheckStatus.Fail, checks["TypeMismatch"].Status);
        Assert.Contains($"{wrongType} on mtty runs mtty-2, defined mtty-1", checks["TypeMismatch"].Detail, StringComparison.Ordinal);
        Assert.Equal(CheckStatus.Warning, checks["ParentMissing"].Status);
        Assert.Contains($"{orphan} (0000:81:00.4 mtty-1)", checks["ParentMissing"].Detail, StringComparison.Ordinal);
        Assert.All(checks.Values.Where(c => c.Status is CheckStatus.Warning or CheckStatus.Fail), c => Assert.False(string.IsNullOrEmpty(c.Remedy)));
    }

    [Fact]
    public void Debians_rule_naming_usr_sbin_mdevctl_is_broken_and_the_override_in_etc_fixes_it()
    {
        using var host = MdevHost.Create();
        // The rule as this machine's package ships it when mdevctl is installed here, else the captured text.
        var shipped = File.Exists("/lib/udev/rules.d/60-mdevctl.rules") ? File.ReadAllText("/lib/udev/rules.d/60-mdevctl.rules") : DebianRule;
        host.WriteFile("lib/udev/rules.d/60-mdevctl.rules", shipped);
        host.WriteFile("usr/bin/mdevctl", "");
        Assert.Equal(CheckStatus.Warning, Check(host)["MdevctlUdevRuleBroken"].Status); // no auto definition yet
        host.WriteFile("etc/mdevctl.d/mtty/aaaaaaaa-0000-0000-0000-000000000001", Auto);
        var broken = Check(host)["MdevctlUdevRuleBroken"];
        Assert.Equal(CheckStatus.Fail, broken.Status);
        Assert.Contains("/usr/sbin/mdevctl, which does not exist (mdevctl is /usr/bin/mdevctl)", broken.Detail, StringComparison.Ordinal);
        Assert.Equal("Install a corrected copy that overrides the package's rule: sed 's|/usr/sbin/mdevctl|/usr/bin/mdevctl|g' /lib/udev/rules.d/60-mdevctl.rules > /etc/udev/rules.d/60-mdevctl.rules && udevadm control --reload (mdevctl/mdevctl#82).", broken.Remedy);

        // The remedy, applied to the tree: udev reads the /etc copy instead of the package's.
        host.WriteFile("etc/udev/rules.d/60-mdevctl.rules", shipped.Replace("/usr/sbin/mdevctl", "/usr/bin/mdevctl", StringComparison.Ordinal));
        Assert.Equal(CheckStatus.Pass, Check(host)["MdevctlUdevRuleBroken"].Status);
    }
}
