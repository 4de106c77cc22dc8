using PciPassthrough.Binding;

namespace PciPassthrough.Core.Tests;

/// <summary>What the next call does with a journal left behind (D3, findings §5.1 and §5.2).</summary>
public class BindingRecoveryTests
{
    private const string Nic1 = BindingFixture.Nic1;
    private const string Nic2 = BindingFixture.Nic2;

    [Fact]
    public void A_stale_journal_naming_a_device_a_guest_holds_leaves_it_alone_and_stops_with_its_own_error()
    {
        using var f = new BindingFixture();
        f.Binder().Bind([Nic1], f.Log.Add);
        new BindingState(f.Root).ForgetOrigin(Nic1); // as if bound by hand
        f.Host.WriteFile("dev/vfio/1", "");
        f.Host.AddProcess(4242, "qemu-kvm-one", ["qemu", "-name", "guest=one-7"], "/dev/vfio/1");
        new BindingState(f.Root).WriteJournal([new DeviceOrigin(Nic1, "nvidia", null)]);
        f.Kernel.Writes.Clear();

        for (var attempt = 0; attempt < 2; attempt++)
        {
            var e = Assert.Throws<PciPassthroughException>(() => f.Binder().Bind([Nic2], f.Log.Add));
            Assert.Equal(ErrorIds.JournalNeedsAttention, e.ErrorId);
            Assert.Contains("one-7", e.Message);
            Assert.Contains(new BindingState(f.Root).JournalFile, e.Message);
            Assert.Equal(Nic1, e.Target);
        }

        Assert.Empty(f.Kernel.Writes);
        Assert.Equal(("vfio-pci", "vfio-pci"), f.State(Nic1));
        Assert.Equal(("e1000", "e1000"), f.State(Nic2));
        Assert.Single(new BindingState(f.Root).ReadJournal());

        // The documented way out: look at it, clear it, and the next call runs.
        Assert.Equal([new DeviceOrigin(Nic1, "nvidia", null)], f.Binder().ReadJournal());
        Assert.Equal([new DeviceOrigin(Nic1, "nvidia", null)], f.Binder().ClearJournal(f.Log.Add));
        Assert.Empty(f.Kernel.Writes);
        f.Binder().Bind([Nic2], f.Log.Add);
        Assert.Equal(("vfio-pci", "vfio-pci"), f.State(Nic1));
        Assert.Equal(("vfio-pci", "vfio-pci"), f.State(Nic2));
    }

    [Fact]
    public void Recovery_that_would_take_a_device_the_host_now_needs_off_its_driver_stops_before_any_write()
    {
        using var f = new BindingFixture();
        // An unbind died after returning Nic1 to e1000; since then ens1 carries the default route.
        new BindingState(f.Root).WriteJournal([new DeviceOrigin(Nic1, "vfio-pci", "vfio-pci")]);
        f.Host.WriteFile("proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\nens1\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n");

        var e = Assert.Throws<PciPassthroughException>(() => f.Binder().Bind([Nic2], f.Log.Add));
        Assert.Equal(ErrorIds.JournalNeedsAttention, e.ErrorId);
        Assert.Equal(ErrorIds.CarriesDefaultRoute, Assert.IsType<PciPassthroughException>(e.InnerException).ErrorId);
        Assert.Empty(f.Kernel.Writes);
        Assert.Equal(("e1000", null), f.State(Nic1));
    }

    [Fact]
    public void A_failed_recovery_puts_driver_override_back()
    {
        using var f = new BindingFixture();
        f.Binder().Bind([Nic1], f.Log.Add);
        new BindingState(f.Root).WriteJournal([new DeviceOrigin(Nic1, "e1000e", null)]);
        f.Kernel.FailWhen = (_, path, _) => path.EndsWith("/unbind", StringComparison.Ordinal);
        var e = Assert.Throws<PciPassthroughException>(() => f.Binder().Bind([Nic2], f.Log.Add));
        Assert.Equal(ErrorIds.DeviceStranded, e.ErrorId);
        Assert.Contains(f.Kernel.Writes, w => w.Value == "e1000e\n");
        Assert.Equal(("vfio-pci", "vfio-pci"), f.State(Nic1));
        Assert.Single(new BindingState(f.Root).ReadJournal());
    }

    [Theory]
    [InlineData("0000:01:00.0\te1000\n0000:02:00.0 e1000\n")]
    [InlineData("garbage\n")]
    [InlineData("0000:01:00.0\te1000\t\\q\n")]
    public void A_malformed_journal_is_an_error_naming_the_file_not_silence(string content)
    {
        using var f = new BindingFixture();
        var path = f.Host.WriteFile("run/pcipassthrough/journal", content);
        var e = Assert.Throws<PciPassthroughException>(() => f.Binder().Bind([Nic2], f.Log.Add));
        Assert.Equal(ErrorIds.JournalUnreadable, e.ErrorId);
        Assert.Contains(path, e.Message);
        Assert.Empty(f.Kernel.Writes);
        Assert.Equal(("e1000", "e1000"), f.State(Nic2));

        f.Binder().ClearJournal(f.Log.Add);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void An_unreadable_journal_is_an_error_naming_the_file()
    {
        using var f = new BindingFixture();
        var path = f.Root.Resolve(BindingState.Directory + "/journal");
        Directory.CreateDirectory(path);
        var e = Assert.Throws<PciPassthroughException>(() => f.Binder().Unbind([(Nic2, null)], f.Log.Add));
        Assert.Equal(ErrorIds.JournalUnreadable, e.ErrorId);
        Assert.Equal(path, e.Target);
    }

    [Fact]
    public void A_driver_override_with_tabs_and_newlines_survives_the_journal()
    {
        using var f = new BindingFixture();
        var odd = new DeviceOrigin(Nic1, "e1000", "a\tb\nc\\d");
        new BindingState(f.Root).WriteJournal([odd, new DeviceOrigin(Nic2, null, null)]);
        Assert.Equal([odd, new DeviceOrigin(Nic2, null, null)], new BindingState(f.Root).ReadJournal());
    }

    [Fact]
    public void A_bind_that_died_after_saving_its_origins_is_kept_not_rolled_back()
    {
        using var f = new BindingFixture();
        f.Binder().Bind([Nic1, Nic2], f.Log.Add);
        // The state of a process that died between saving the origins and clearing the journal.
        new BindingState(f.Root).WriteJournal([new DeviceOrigin(Nic1, "e1000", null), new DeviceOrigin(Nic2, "e1000", "e1000")]);
        f.Kernel.Writes.Clear();

        Assert.Empty(f.Binder().Recover(f.Log.Add));
        Assert.Empty(f.Kernel.Writes);
        Assert.Equal(("vfio-pci", "vfio-pci"), f.State(Nic1));
        Assert.Empty(new BindingState(f.Root).ReadJournal());

        f.Binder().Unbind([(Nic1, null), (Nic2, null)], f.Log.Add);
        Assert.Equal(("e1000", null), f.State(Nic1));
        Assert.Equal(("e1000", "e1000"), f.State(Nic2));
    }

    [Fact]
    public void A_bind_that_died_while_saving_its_origins_is_rolled_back_and_its_records_dropped()
    {
        using var f = new BindingFixture();
        // Saving Nic2's origin fails (a directory is in the way): the call dies after Nic1's was saved.
        var blocker = f.Root.Resolve($"{BindingState.Directory}/origins/{Nic2}");
        Directory.CreateDirectory(Path.Combine(blocker, "x"));
        Assert.ThrowsAny<IOException>(() => f.Binder().Bind([Nic1, Nic2], f.Log.Add));
        Assert.Equal(2, new BindingState(f.Root).ReadJournal().Count);
        Assert.NotNull(new BindingState(f.Root).ReadOrigin(Nic1));

        Assert.Equal(2, f.Binder().Recover(f.Log.Add).Count);
        Assert.Equal(("e1000", null), f.State(Nic1));
        Assert.Equal(("e1000", "e1000"), f.State(Nic2));
        Assert.Null(new BindingState(f.Root).ReadOrigin(Nic1));
        Assert.Empty(new BindingState(f.Root).ReadJournal());
    }

    [Fact]
    public void An_unbind_that_dies_while_forgetting_origins_has_already_cleared_its_journal()
    {
        using var f = new BindingFixture();
        f.Binder().Bind([Nic1], f.Log.Add);
        // Forgetting Nic1's origin fails: the call dies after the devices were returned.
        var origin = f.Root.Resolve($"{BindingState.Directory}/origins/{Nic1}");
        File.Delete(origin);
        Directory.CreateDirectory(Path.Combine(origin, "x"));
        Assert.ThrowsAny<Exception>(() => f.Binder().Unbind([(Nic1, "e1000")], f.Log.Add));
        Assert.Equal(("e1000", null), f.State(Nic1));

        Assert.Empty(f.Binder().Recover(f.Log.Add));
        Assert.Equal(("e1000", null), f.State(Nic1));
    }
}

/// <summary>What changed between the plan and the lock still refuses the call (D14).</summary>
public class BindingRecheckTests
{
    private const string Nic1 = BindingFixture.Nic1;

    [Fact]
    public void A_default_route_that_appears_after_planning_refuses_the_bind_before_any_write()
    {
        using var f = new BindingFixture();
        Assert.Equal([Nic1], f.Binder().PlanBind(f.Device(Nic1), includeGroup: false, force: false).Select(d => d.PciAddress));
        f.Host.WriteFile("proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\nens1\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n");

        var e = Assert.Throws<PciPassthroughException>(() => f.Binder().Bind([Nic1], f.Log.Add));
        Assert.Equal(ErrorIds.CarriesDefaultRoute, e.ErrorId);
        Assert.Empty(f.Kernel.Writes);
        Assert.Equal(("e1000", null), f.State(Nic1));

        f.Binder().Bind([Nic1], f.Log.Add, force: true);
        Assert.Equal("vfio-pci", f.State(Nic1).Driver);
    }

    [Fact]
    public void A_guest_that_starts_after_planning_refuses_the_unbind_before_any_write()
    {
        using var f = new BindingFixture();
        var binder = f.Binder();
        binder.Bind([Nic1], f.Log.Add);
        VfioBinder.PlanUnbind(f.Device(Nic1), force: false);
        f.Host.WriteFile("dev/vfio/1", "");
        f.Host.AddProcess(4242, "qemu-kvm-one", ["qemu", "-name", "guest=one-7"], "/dev/vfio/1");
        f.Kernel.Writes.Clear();

        var e = Assert.Throws<PciPassthroughException>(() => binder.Unbind([(Nic1, null)], f.Log.Add));
        Assert.Equal(ErrorIds.InUse, e.ErrorId);
        Assert.Empty(f.Kernel.Writes);
        Assert.Equal(("vfio-pci", "vfio-pci"), f.State(Nic1));
    }
}
