using PciPassthrough.Binding;

namespace PciPassthrough.Core.Tests;

public class VfioBinderTests
{
    private const string Nic1 = BindingFixture.Nic1;
    private const string Nic2 = BindingFixture.Nic2;

    [Fact]
    public void Binding_follows_the_driver_override_protocol_and_unbinding_restores_driver_and_override()
    {
        using var f = new BindingFixture();
        var results = f.Binder().Bind([Nic1], f.Log.Add);
        Assert.Equal(new DeviceBindingResult(Nic1, BindingOutcome.Changed, "e1000", "vfio-pci"), Assert.Single(results));
        Assert.Equal(("vfio-pci", "vfio-pci"), f.State(Nic1));
        Assert.Equal(
            [($"/sys/bus/pci/devices/{Nic1}/driver_override", "vfio-pci\n"), ("/sys/bus/pci/drivers/e1000/unbind", Nic1), ("/sys/bus/pci/drivers_probe", Nic1)],
            f.Kernel.Writes);
        Assert.Empty(new BindingState(f.Root).ReadJournal());
        Assert.Equal(new DeviceOrigin(Nic1, "e1000", null), new BindingState(f.Root).ReadOrigin(Nic1));

        f.Kernel.Writes.Clear();
        var back = f.Binder().Unbind([(Nic1, null)], f.Log.Add);
        Assert.Equal(new DeviceBindingResult(Nic1, BindingOutcome.Changed, "vfio-pci", "e1000"), Assert.Single(back));
        Assert.Equal(("e1000", null), f.State(Nic1));
        Assert.Equal(
            [($"/sys/bus/pci/devices/{Nic1}/driver_override", "e1000\n"), ("/sys/bus/pci/drivers/vfio-pci/unbind", Nic1), ("/sys/bus/pci/drivers_probe", Nic1), ($"/sys/bus/pci/devices/{Nic1}/driver_override", "\n")],
            f.Kernel.Writes);
        Assert.Null(new BindingState(f.Root).ReadOrigin(Nic1));
    }

    [Fact]
    public void A_device_already_on_vfio_pci_is_a_no_op_that_says_so()
    {
        using var f = new BindingFixture();
        f.Binder().Bind([Nic1], f.Log.Add);
        f.Kernel.Writes.Clear();
        Assert.Equal(BindingOutcome.AlreadyThere, Assert.Single(f.Binder().Bind([Nic1], f.Log.Add)).Outcome);
        Assert.Empty(f.Kernel.Writes);
        Assert.Equal(BindingOutcome.AlreadyThere, Assert.Single(f.Binder().Unbind([(Nic2, null)], f.Log.Add)).Outcome);
        Assert.Empty(f.Kernel.Writes);
    }

    [Fact]
    public void A_failing_write_at_every_step_leaves_every_device_on_its_original_driver_and_override()
    {
        using var probe = new BindingFixture();
        probe.Binder().Bind([Nic1, Nic2], probe.Log.Add);
        var steps = probe.Kernel.Writes.Count;
        Assert.Equal(6, steps); // each NIC: override, unbind, drivers_probe (the override already reads vfio-pci)

        for (var failAt = 0; failAt < steps; failAt++)
        {
            using var f = new BindingFixture();
            var at = failAt;
            f.Kernel.FailWhen = (i, _, _) => i == at;
            var e = Assert.Throws<PciPassthroughException>(() => f.Binder().Bind([Nic1, Nic2], f.Log.Add));
            Assert.Equal(ErrorIds.BindingFailed, e.ErrorId);
            Assert.Contains("Every device of the call is back where it was", e.Message);
            Assert.Equal(("e1000", null), f.State(Nic1));
            Assert.Equal(("e1000", "e1000"), f.State(Nic2));
            Assert.Empty(new BindingState(f.Root).ReadJournal());
            Assert.Null(new BindingState(f.Root).ReadOrigin(Nic1));
        }
    }

    [Fact]
    public void A_failing_write_at_every_step_of_an_unbind_leaves_every_device_on_vfio_pci()
    {
        using var probe = new BindingFixture();
        probe.Binder().Bind([Nic1, Nic2], probe.Log.Add);
        probe.Kernel.Writes.Clear();
        probe.Binder().Unbind([(Nic1, null), (Nic2, null)], probe.Log.Add);
        var steps = probe.Kernel.Writes.Count;
        Assert.Equal(7, steps); // Nic1: override, unbind, drivers_probe, clear; Nic2 keeps its own override "e1000"

        for (var failAt = 0; failAt < steps; failAt++)
        {
            using var f = new BindingFixture();
            f.Binder().Bind([Nic1, Nic2], f.Log.Add);
            var start = f.Kernel.Writes.Count;
            var at = start + failAt;
            f.Kernel.FailWhen = (i, _, _) => i == at;
            var e = Assert.Throws<PciPassthroughException>(() => f.Binder().Unbind([(Nic1, null), (Nic2, null)], f.Log.Add));
            Assert.Equal(ErrorIds.BindingFailed, e.ErrorId);
            Assert.Equal(("vfio-pci", "vfio-pci"), f.State(Nic1));
            Assert.Equal(("vfio-pci", "vfio-pci"), f.State(Nic2));
            Assert.NotNull(new BindingState(f.Root).ReadOrigin(Nic2));
        }
    }

    [Fact]
    public void A_process_that_dies_mid_protocol_is_repaired_by_the_next_call()
    {
        using var probe = new BindingFixture();
        probe.Binder().Bind([Nic1, Nic2], probe.Log.Add);
        var steps = probe.Kernel.Writes.Count;

        for (var crashAt = 0; crashAt < steps; crashAt++)
        {
            using var f = new BindingFixture();
            var at = crashAt;
            f.Kernel.CrashWhen = (i, _, _) => i == at;
            Assert.Throws<SimulatedCrashException>(() => f.Binder().Bind([Nic1, Nic2], f.Log.Add));
            Assert.NotEmpty(new BindingState(f.Root).ReadJournal());

            f.Kernel.CrashWhen = null;
            var repaired = f.Binder().Recover(f.Log.Add);
            Assert.Equal([Nic1, Nic2], repaired.Select(o => o.Address));
            Assert.Equal(("e1000", null), f.State(Nic1));
            Assert.Equal(("e1000", "e1000"), f.State(Nic2));
            Assert.Empty(new BindingState(f.Root).ReadJournal());
            Assert.Contains(f.Log, l => l.Contains("did not finish"));
        }
    }

    [Fact]
    public void The_next_bind_repairs_a_dead_transaction_before_doing_its_own()
    {
        using var f = new BindingFixture();
        f.Kernel.CrashWhen = (i, path, _) => path == "/sys/bus/pci/drivers_probe";
        Assert.Throws<SimulatedCrashException>(() => f.Binder().Bind([Nic1], f.Log.Add));
        Assert.Equal((null, "vfio-pci"), f.State(Nic1)); // half done: no driver at all
        f.Kernel.CrashWhen = null;
        f.Binder().Bind([Nic2], f.Log.Add);
        Assert.Equal(("e1000", null), f.State(Nic1));
        Assert.Equal(("vfio-pci", "vfio-pci"), f.State(Nic2));
    }

    [Fact]
    public void A_rollback_that_fails_says_which_device_is_stranded_and_keeps_the_journal_for_the_next_call()
    {
        using var f = new BindingFixture();
        // The bind of Nic2 fails at drivers_probe, and so does every later attempt to put Nic2 back on e1000.
        f.Kernel.FailWhen = (_, path, value) => path == "/sys/bus/pci/drivers_probe" && value == Nic2;
        var e = Assert.Throws<PciPassthroughException>(() => f.Binder().Bind([Nic1, Nic2], f.Log.Add));
        Assert.Equal(ErrorIds.DeviceStranded, e.ErrorId);
        Assert.Contains(Nic2, e.Message);
        Assert.Contains("it should be on e1000", e.Message);
        Assert.Equal(("e1000", null), f.State(Nic1));
        Assert.NotEmpty(new BindingState(f.Root).ReadJournal());

        f.Kernel.FailWhen = null;
        f.Binder().Recover(f.Log.Add);
        Assert.Equal(("e1000", "e1000"), f.State(Nic2));
        Assert.Empty(new BindingState(f.Root).ReadJournal());
    }

    [Fact]
    public void Vfio_pci_is_loaded_when_missing_and_its_absence_changes_nothing()
    {
        using var f = new BindingFixture(vfioLoaded: false);
        f.Binder().Bind([Nic1], f.Log.Add);
        Assert.Equal(["vfio-pci"], f.Kernel.LoadedModules);
        Assert.Equal("vfio-pci", f.State(Nic1).Driver);

        using var g = new BindingFixture(vfioLoaded: false);
        g.Kernel.VfioLoadable = false;
        var e = Assert.Throws<PciPassthroughException>(() => g.Binder().Bind([Nic1], g.Log.Add));
        Assert.Equal(ErrorIds.VfioPciUnavailable, e.ErrorId);
        Assert.Empty(g.Kernel.Writes);
        Assert.Equal(("e1000", null), g.State(Nic1));
    }

    [Fact]
    public void A_driver_that_cannot_be_loaded_refuses_the_unbind_before_any_write()
    {
        using var f = new BindingFixture();
        f.Binder().Bind([Nic1], f.Log.Add);
        f.Kernel.Writes.Clear();
        var e = Assert.Throws<PciPassthroughException>(() => f.Binder().Unbind([(Nic1, "no_such_driver")], f.Log.Add));
        Assert.Equal(ErrorIds.DriverUnavailable, e.ErrorId);
        Assert.Empty(f.Kernel.Writes);
        Assert.Equal("vfio-pci", f.State(Nic1).Driver);
    }

    [Fact]
    public void A_named_driver_that_will_not_bind_rolls_back_to_vfio_pci()
    {
        using var f = new BindingFixture();
        f.Binder().Bind([Nic1], f.Log.Add);
        Directory.CreateDirectory(Path.Combine(f.Host.Root, "sys/bus/pci/drivers/e1000e"));
        // e1000e is loaded, but the fake kernel binds it only through the override, so make the probe a no-op.
        f.Kernel.FailWhen = (_, path, value) => path == "/sys/bus/pci/drivers_probe" && f.Kernel.CurrentOverride(Nic1) == "e1000e";
        var e = Assert.Throws<PciPassthroughException>(() => f.Binder().Unbind([(Nic1, "e1000e")], f.Log.Add));
        Assert.Equal(ErrorIds.BindingFailed, e.ErrorId);
        Assert.Equal(("vfio-pci", "vfio-pci"), f.State(Nic1));
    }

    [Fact]
    public void A_device_that_had_no_driver_goes_back_to_no_driver_with_its_old_override()
    {
        using var f = new BindingFixture();
        f.Host.Add(new FakeDevice("0000:03:00.0") { IommuGroup = 3, DriverOverride = "none" });
        f.Binder().Bind(["0000:03:00.0"], f.Log.Add);
        Assert.Equal(("vfio-pci", "vfio-pci"), f.State("0000:03:00.0"));
        f.Binder().Unbind([("0000:03:00.0", null)], f.Log.Add);
        Assert.Equal((null, "none"), f.State("0000:03:00.0"));
    }

    [Fact]
    public void A_stale_origin_record_is_replaced_when_the_device_is_bound_again()
    {
        using var f = new BindingFixture();
        new BindingState(f.Root).SaveOrigin(new DeviceOrigin(Nic1, "igb", null)); // left over from another card
        f.Binder().Bind([Nic1], f.Log.Add);
        Assert.Equal("e1000", new BindingState(f.Root).ReadOrigin(Nic1)!.Driver);
        f.Binder().Unbind([(Nic1, null)], f.Log.Add);
        Assert.Equal(("e1000", null), f.State(Nic1));
    }

    [Fact]
    public void A_symlink_out_of_a_captured_root_is_refused_before_any_write()
    {
        using var f = new BindingFixture();
        var outside = Path.Combine(Path.GetTempPath(), "pcipt-outside-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(outside);
        try
        {
            Directory.CreateSymbolicLink(Path.Combine(f.Host.Root, "run"), outside);
            var e = Assert.Throws<PciPassthroughException>(() => f.Binder().Bind([Nic1], f.Log.Add));
            Assert.Equal(ErrorIds.OutsideRoot, e.ErrorId);
            Assert.Empty(Directory.GetFileSystemEntries(outside));
            Assert.Empty(f.Kernel.Writes);
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public void A_caller_who_is_not_root_is_refused_before_anything_is_touched()
    {
        using var f = new BindingFixture();
        var saved = Privileges.IsRootProbe;
        try
        {
            Privileges.IsRootProbe = () => false;
            var e = Assert.Throws<PciPassthroughException>(() => f.Binder(requireRoot: true).Bind([Nic1], f.Log.Add));
            Assert.Equal(ErrorIds.NotRoot, e.ErrorId);
            Assert.Contains("root", e.RecommendedAction);
        }
        finally
        {
            Privileges.IsRootProbe = saved;
        }

        Assert.Empty(f.Kernel.Writes);
        Assert.False(File.Exists(f.Root.Resolve(BindingLock.HostPath)));
    }

    [Fact]
    public void The_lock_excludes_a_second_binder_until_the_first_is_done()
    {
        using var f = new BindingFixture();
        using (BindingLock.Acquire(f.Root, TimeSpan.FromSeconds(1), CancellationToken.None))
        {
            var e = Assert.Throws<PciPassthroughException>(() => f.Binder(lockTimeout: TimeSpan.FromMilliseconds(200)).Bind([Nic1], f.Log.Add));
            Assert.Equal(ErrorIds.LockTimeout, e.ErrorId);
            Assert.Empty(f.Kernel.Writes);
        }

        f.Binder().Bind([Nic1], f.Log.Add);
        Assert.Equal("vfio-pci", f.State(Nic1).Driver);
    }

    [Fact]
    public async Task Two_concurrent_binders_never_leave_a_device_without_a_driver()
    {
        using var f = new BindingFixture();
        var observedDriverless = 0;
        void Cycle(string address)
        {
            for (var i = 0; i < 25; i++)
            {
                f.Binder().Bind([address], _ => { });
                f.Binder().Unbind([(address, null)], _ => { });
            }
        }

        var watcher = Task.Run(() =>
        {
            for (var i = 0; i < 200; i++)
            {
                using (BindingLock.Acquire(f.Root, TimeSpan.FromSeconds(30), CancellationToken.None))
                {
                    if (f.State(Nic1).Driver is null || f.State(Nic2).Driver is null)
                    {
                        Interlocked.Increment(ref observedDriverless);
                    }
                }

                Thread.Sleep(1);
            }
        });
        await Task.WhenAll(Task.Run(() => Cycle(Nic1)), Task.Run(() => Cycle(Nic1)), Task.Run(() => Cycle(Nic2)), watcher);
        Assert.Equal(0, observedDriverless);
        Assert.Equal(("e1000", null), f.State(Nic1));
        Assert.Equal(("e1000", "e1000"), f.State(Nic2));
    }
}

public class DriverModuleTests
{
    [Fact]
    public void Returning_a_device_loads_the_module_that_provides_its_driver_not_the_drivers_name()
    {
        using var f = new BindingFixture();
        const string Smbus = "0000:00:1f.3";
        f.Binder().Bind([Smbus], f.Log.Add);
        Assert.Equal("vfio-pci", f.State(Smbus).Driver);

        // i801_smbus is the driver of the module i2c_i801; it is not loaded now.
        Directory.Delete(Path.Combine(f.Host.Root, "sys/bus/pci/drivers/i801_smbus"), recursive: true);
        f.Host.WriteFile($"lib/modules/{IommuHostFiles.Release}/modules.dep", "kernel/drivers/i2c/busses/i2c-i801.ko:\n");
        f.Host.WriteFile($"lib/modules/{IommuHostFiles.Release}/modules.alias", "alias pci:v00008086d00002930sv*sd*bc*sc*i* i2c_i801\n");
        f.Host.WriteFile($"sys/bus/pci/devices/{Smbus}/modalias", "pci:v00008086d00002930sv00008086sd00002930bc0Csc05i00\n");

        var e = Assert.Throws<PciPassthroughException>(() => f.Binder().Unbind([(Smbus, null)], f.Log.Add));
        Assert.Equal(ErrorIds.DriverUnavailable, e.ErrorId);
        Assert.Contains("i2c_i801", f.Kernel.LoadedModules);
        Assert.DoesNotContain("i801_smbus", f.Kernel.LoadedModules);
        Assert.Contains("'modprobe i2c_i801' failed", e.Message);
    }

    [Fact]
    public void A_driver_that_exists_nowhere_is_refused_at_planning()
    {
        using var f = new BindingFixture();
        f.Host.WriteFile($"lib/modules/{IommuHostFiles.Release}/modules.dep", "kernel/drivers/net/ethernet/intel/e1000/e1000.ko:\n");
        var e = Assert.Throws<PciPassthroughException>(() => f.Binder().CheckDriverAvailable("nosuchdrv", BindingFixture.Nic1));
        Assert.Equal(ErrorIds.DriverUnavailable, e.ErrorId);
        f.Binder().CheckDriverAvailable("e1000", BindingFixture.Nic1); // loaded: no refusal
    }
}
