namespace PciPassthrough.RealKernel.Tests;

/// <summary>A real-kernel test that also needs the mtty sample prepare.sh builds: skipped, with its reason, without it.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class MttyFactAttribute : FactAttribute
{
    public MttyFactAttribute()
    {
        var dir = Path.Combine(Testbed.Dir, ".work", "mtty");
        var release = File.Exists(Path.Combine(Testbed.Dir, ".work", "env"))
            ? File.ReadAllLines(Path.Combine(Testbed.Dir, ".work", "env")).FirstOrDefault(l => l.StartsWith("PCIPT_RELEASE=", StringComparison.Ordinal))?[14..]
            : null;
        if (Testbed.UnavailableReason is string reason)
        {
            Skip = reason;
        }
        else if (release is null || !File.Exists(Path.Combine(dir, $"mtty-{release}.ko")))
        {
            var why = File.Exists(Path.Combine(dir, "skip-reason")) ? File.ReadAllText(Path.Combine(dir, "skip-reason")).Trim() : "tests/RealKernel/prepare.sh has not built it";
            Skip = $"No mtty.ko for the testbed's kernel: {why}.";
        }
    }
}

/// <summary>Mediated devices on the guest's kernel with the mtty sample (a parent that is no PCI device), and Debian's mdevctl.</summary>
[Collection(GuestDefinition.Name)]
public class MdevOnRealKernelTests(GuestFixture guest)
{
    private const string U = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";

    private string[] Run(string name)
    {
        var r = guest.Scenario(name);
        Assert.True(r.Terminating is null, $"{name}: {r.Terminating}");
        return r.Output.ToArray();
    }

    private static string Value(IEnumerable<string> lines, string key) => lines.Single(l => l.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..];

    [MttyFact]
    public void Mtty_loads_unsigned_with_mdev_and_registers_a_parent()
    {
        Assert.Empty(guest.Scenario("mdev-load").Errors);
        var r = Run("mdev-load");
        Assert.Equal(["ko=True", "mdev=0", "mtty=0", "parent=True"], r);
    }

    [MttyFact]
    public void The_types_of_the_non_pci_parent_are_listed_as_mdevctl_lists_them()
    {
        var r = Run("mdev-types");
        Assert.Contains("type=mtty|False|mtty-1|Single port serial|vfio-pci|24|", r);
        Assert.Contains("type=mtty|False|mtty-2|Dual port serial|vfio-pci|12|", r);
        Assert.Equal("24", Value(r, "mdevctl-available"));
    }

    [MttyFact]
    public void A_device_is_created_by_uuid_with_its_group_and_vfio_node_and_a_duplicate_is_refused()
    {
        var r = Run("mdev-create");
        Assert.Equal($"{U}|mtty|mtty-1|Active|mtty", Value(r, "device"));
        var node = Value(r, "node").Split('|');
        Assert.Equal(["True", "True"], node[1..]);
        Assert.Equal("/dev/vfio/" + Value(r, "link"), node[0]);
        Assert.Equal("23", Value(r, "available"));
        Assert.Equal($"{U}|1|23", Value(r, "reused")); // same parent and type: reused with a warning, nothing created
        Assert.Equal("MediatedDeviceExists", Value(r, "othertype"));
        Assert.Contains("exists", Value(r, "kernel-dup"), StringComparison.OrdinalIgnoreCase); // the kernel's own EEXIST
    }

    [MttyFact]
    public void Exhaustion_is_refused_and_every_instance_is_removed_again()
    {
        var r = guest.Scenario("mdev-exhaust");
        Assert.True(r.Terminating is null, r.Terminating);
        var made = int.Parse(Value(r.Output, "made"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(made, 1, 12);
        Assert.Equal("MediatedDeviceTypeExhausted", Value(r.Output, "exhausted"));
        Assert.Equal(made.ToString(System.Globalization.CultureInfo.InvariantCulture), Value(r.Output, "listed"));
        Assert.StartsWith("0|", Value(r.Output, "after"), StringComparison.Ordinal);
    }

    [MttyFact]
    public void Removal_is_refused_while_the_group_is_held_open_and_works_after()
    {
        var r = guest.Scenario("mdev-inuse");
        Assert.True(r.Terminating is null, r.Terminating);
        Assert.EndsWith(":True", Value(r.Output, "inuse"), StringComparison.Ordinal);
        Assert.Equal("MediatedDeviceInUse|Active", Value(r.Output, "refused"));
        Assert.Equal("0|False|24", Value(r.Output, "removed"));
    }

    [MttyFact]
    public void Definitions_round_trip_with_debians_mdevctl_and_the_drift_test_sees_them()
    {
        Assert.Empty(guest.Scenario("mdev-mdevctl").Errors);
        var r = Run("mdev-mdevctl");
        Assert.Equal("c4a9cf77-088e-5d36-8303-eb7f09922c64|Defined", Value(r, "mine"));
        Assert.Equal("mtty-1|auto|{\"unused\":\"x\"}", Value(r, "mdevctl-lists")); // mdevctl list -d -v of the file the module wrote
        Assert.Equal("0", Value(r, "define"));
        Assert.Equal("mtty-2|Auto|Defined", Value(r, "theirs"));
        Assert.Equal("0", Value(r, "start"));
        Assert.Equal("ActiveAndDefined", Value(r, "started"));
        Assert.Contains("drift=DefinedNotActive|Warning", r); // the module's definition was not started
        Assert.Contains("drift=TypeMismatch|Pass", r);
        Assert.Contains("drift=MdevctlUdevRuleBroken|Fail", r); // Debian 12's rule names /usr/sbin/mdevctl
        Assert.Equal("|", Value(r, "mdevctl-after"));
    }
}
