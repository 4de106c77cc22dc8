using PciPassthrough.HostConfig;
using PciPassthrough.Host;
using PciPassthrough.HostFs;
using PciPassthrough.Iommu;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Binding;

/// <summary>Timing and cancellation for one binder call.</summary>
public sealed record BinderSettings(TimeSpan LockTimeout, TimeSpan Settle, bool RequireRoot, CancellationToken Cancel)
{
    public static BinderSettings For(HostRoot root, CancellationToken cancel) =>
        new(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(5), root.IsLiveHost, cancel);
}

/// <summary>
/// Moves devices between their host drivers and vfio-pci: one transaction per call, under the host-wide
/// lock, with an intent journal so that a crash leaves nothing that the next call does not repair.
/// </summary>
public sealed class VfioBinder
{
    public const string VfioDriver = "vfio-pci";
    private readonly HostRoot _root;
    private readonly IKernel _kernel;
    private readonly PciDeviceReader _devices;
    private readonly BinderSettings _settings;
    private readonly BindingState _state;
    private readonly BindingSafety _safety;
    private readonly Lazy<ModuleAliases> _aliases;

    public VfioBinder(HostRoot root, IKernel kernel, PciDeviceReader devices, BinderSettings settings)
        : this(new HostSession(root, devices), kernel, settings)
    {
    }

    /// <summary>A binder over a cmdlet call's session: planning judges the session's facts, read once.</summary>
    public VfioBinder(HostSession host, IKernel kernel, BinderSettings settings)
    {
        _root = host.Root;
        _kernel = kernel;
        _devices = host.Devices;
        _settings = settings;
        _state = new BindingState(_root);
        _safety = new BindingSafety(host.Safety);
        _aliases = new(() => host.Aliases);
    }

    /// <summary>Refuses a caller that is not root before anything is read or written.</summary>
    public void EnsurePrivileged()
    {
        if (_settings.RequireRoot && !Privileges.IsRoot)
        {
            throw ErrorCatalog.BindingNeedsRoot(_root.Path);
        }
    }

    /// <summary>
    /// The devices a bind of <paramref name="requested"/> must move: itself and, with
    /// <paramref name="includeGroup"/>, every group peer on a host driver. Refuses (typed errors) an unsafe
    /// device or peer, and peers left out, unless <paramref name="force"/>.
    /// </summary>
    public IReadOnlyList<PciDevice> PlanBind(PciDevice requested, bool includeGroup, bool force)
    {
        if (!force)
        {
            _safety.CheckDevice(requested);
        }

        var peers = requested.IommuGroup is int g
            ? new IommuGroupReader(_root, _devices).Read(g)?.Devices.Where(d => d.PciAddress != requested.PciAddress && IommuGroup.IsBlocker(d)).ToList() ?? []
            : [];
        if (peers.Count > 0 && !includeGroup && !force)
        {
            throw ErrorCatalog.GroupNotIsolated(requested.PciAddress, requested.IommuGroup, peers.Select(p => $"{p.PciAddress} ({p.DeviceName}, on {p.Driver})"));
        }

        if (!includeGroup)
        {
            return [requested];
        }

        if (!force)
        {
            foreach (var peer in peers)
            {
                _safety.CheckDevice(peer);
            }
        }

        // A device on vfio-pci already (a guest may hold it) is not moved again: -IncludeGroup only brings its peers.
        return requested.Driver == VfioDriver ? peers : [requested, .. peers];
    }

    /// <summary>Refuses to take a device away from a running guest unless forced.</summary>
    public static void PlanUnbind(PciDevice device, bool force)
    {
        if (!force && device.InUse.Length > 0)
        {
            throw ErrorCatalog.InUseForUnbind(device);
        }
    }

    /// <summary>Binds every address to vfio-pci, or returns every touched device to where it was.</summary>
    /// <remarks>Unless <paramref name="force"/>, the bind's refusals are checked again under the lock.</remarks>
    public IReadOnlyList<DeviceBindingResult> Bind(IReadOnlyList<string> addresses, Action<string> log, Action<int, int>? progress = null, Action<string>? warn = null, bool force = false)
    {
        var calls = new CallerCallbacks(log, progress, warn);
        return calls.Run(() => Bind(addresses, calls, force));
    }

    private List<DeviceBindingResult> Bind(IReadOnlyList<string> addresses, CallerCallbacks calls, bool force)
    {
        EnsurePrivileged();
        using var held = BindingLock.Acquire(_root, _settings.LockTimeout, _settings.Cancel, calls.Log);
        var sw = Switch(_settings.Cancel);
        Recover(calls);
        if (!force)
        {
            var safety = new BindingSafety(_root);
            Recheck(addresses, d => d.Driver != VfioDriver, d => safety.CheckDevice(d));
        }

        if (!sw.DriverLoaded(VfioDriver) && !(_kernel.LoadModule("vfio-pci") && sw.DriverLoaded(VfioDriver)))
        {
            throw ErrorCatalog.VfioPciUnavailable(VfioDriver);
        }

        var results = new List<DeviceBindingResult>();
        var origins = new List<DeviceOrigin>();
        foreach (var address in addresses.Distinct(StringComparer.Ordinal))
        {
            var driver = sw.CurrentDriver(address);
            if (driver == VfioDriver)
            {
                results.Add(new(address, BindingOutcome.AlreadyThere, driver, driver));
                continue;
            }

            origins.Add(new DeviceOrigin(address, driver, sw.CurrentOverride(address)));
        }

        // Each device came from a host driver just now: its origin is that driver, whatever an older
        // record said. Saved before the journal is cleared, so a crash cannot lose it; and a journal whose
        // every device is on vfio-pci with its origin saved is a finished bind, which Recover keeps.
        Transact(origins, (s, o) => s.MoveTo(o.Address, VfioDriver, VfioDriver), "bind to vfio-pci", calls, beforeClear: () =>
        {
            foreach (var o in origins)
            {
                _state.SaveOrigin(o);
            }
        });
        foreach (var o in origins)
        {
            results.Add(new(o.Address, BindingOutcome.Changed, o.Driver, VfioDriver));
        }

        return results;
    }

    /// <summary>
    /// Returns devices from vfio-pci to a host driver: the one given, else the one each had before it was
    /// bound here, else the kernel's own choice. All of them, or none (they stay on vfio-pci).
    /// </summary>
    /// <remarks>Unless <paramref name="force"/>, a guest's hold on a device is checked again under the lock.</remarks>
    public IReadOnlyList<DeviceBindingResult> Unbind(IReadOnlyList<(string Address, string? Driver)> targets, Action<string> log, Action<int, int>? progress = null, Action<string>? warn = null, bool force = false)
    {
        var calls = new CallerCallbacks(log, progress, warn);
        return calls.Run(() => Unbind(targets, calls, force));
    }

    private List<DeviceBindingResult> Unbind(IReadOnlyList<(string Address, string? Driver)> targets, CallerCallbacks calls, bool force)
    {
        EnsurePrivileged();
        using var held = BindingLock.Acquire(_root, _settings.LockTimeout, _settings.Cancel, calls.Log);
        var sw = Switch(_settings.Cancel);
        Recover(calls);
        if (!force)
        {
            Recheck(targets.Select(t => t.Address), d => d.Driver == VfioDriver, d => PlanUnbind(d, force: false));
        }

        var results = new List<DeviceBindingResult>();
        var plan = new List<(DeviceOrigin Origin, string? Driver, string? FinalOverride, bool ToNoDriver)>();
        foreach (var (address, requestedDriver) in targets.DistinctBy(t => t.Address))
        {
            var current = sw.CurrentDriver(address);
            if (current != VfioDriver)
            {
                results.Add(new(address, BindingOutcome.AlreadyThere, current, current));
                continue;
            }

            var record = _state.ReadOrigin(address);
            if (requestedDriver is null && record is { Driver: null })
            {
                // It had no driver before it was bound here: back to no driver, with its old override.
                plan.Add((new DeviceOrigin(address, VfioDriver, sw.CurrentOverride(address)), null, record.Override, true));
                continue;
            }

            var driver = requestedDriver ?? record?.Driver;
            if (driver is not null && !sw.DriverLoaded(driver) && !(_kernel.LoadModule(ModuleProviding(driver, address)) && sw.DriverLoaded(driver)))
            {
                throw ErrorCatalog.DriverLoadFailed(driver, address, ModuleProviding(driver, address));
            }

            if (driver is null && !HasHostDriverCandidate(address))
            {
                throw ErrorCatalog.NoHostDriverKnown(address);
            }

            plan.Add((new DeviceOrigin(address, VfioDriver, sw.CurrentOverride(address)), driver, requestedDriver is null ? record?.Override : null, false));
        }

        var byAddress = plan.ToDictionary(p => p.Origin.Address);
        Transact(plan.Select(p => p.Origin).ToList(), (s, o) =>
        {
            var (_, driver, finalOverride, toNoDriver) = byAddress[o.Address];
            if (toNoDriver)
            {
                s.MoveTo(o.Address, null, finalOverride);
            }
            else if (driver is null)
            {
                s.MoveToKernelChoice(o.Address);
            }
            else
            {
                s.MoveTo(o.Address, driver, finalOverride);
            }
        }, "return to the host driver", calls, afterClear: () =>
        {
            // After the journal is gone: a crash before this leaves a stale record (replaced at the next
            // bind), never a recovery that returns the devices to vfio-pci without their records.
            foreach (var p in plan)
            {
                _state.ForgetOrigin(p.Origin.Address);
            }
        });

        foreach (var p in plan)
        {
            results.Add(new(p.Origin.Address, BindingOutcome.Changed, VfioDriver, sw.CurrentDriver(p.Origin.Address)));
        }

        return results;
    }

    /// <summary>The journal of an interrupted transaction, for inspection; empty when there is none.</summary>
    public IReadOnlyList<DeviceOrigin> ReadJournal() => _state.ReadJournal();

    /// <summary>The journal file under this root.</summary>
    public string JournalFile => _state.JournalFile;

    /// <summary>
    /// Drops the journal of an interrupted transaction without touching any device, under the lock: for
    /// an operator who has put its devices where they belong. Returns what it named (empty when it could
    /// not be read).
    /// </summary>
    public IReadOnlyList<DeviceOrigin> ClearJournal(Action<string> log)
    {
        EnsurePrivileged();
        using var held = BindingLock.Acquire(_root, _settings.LockTimeout, _settings.Cancel, log);
        IReadOnlyList<DeviceOrigin> named;
        try
        {
            named = _state.ReadJournal();
        }
        catch (PciPassthroughException e) when (e.ErrorId == ErrorIds.JournalUnreadable)
        {
            log(e.Message);
            named = [];
        }

        foreach (var o in named)
        {
            log($"{o.Address}: the journal said to return it to {o.Driver ?? "no driver"} (driver_override '{o.Override}'); left where it is.");
        }

        _state.ClearJournal();
        return named;
    }

    /// <summary>
    /// Puts back the devices of a transaction whose process died; returns what it repaired. Only the
    /// devices the journal names are touched, and only after the checks a bind makes: a device a guest
    /// holds, or one the host needs, stops the recovery before any write (BindingJournalNeedsAttention).
    /// </summary>
    public IReadOnlyList<DeviceOrigin> Recover(Action<string> log)
    {
        var calls = new CallerCallbacks(log);
        return calls.Run(() => Recover(calls));
    }

    private IReadOnlyList<DeviceOrigin> Recover(CallerCallbacks calls)
    {
        var journal = _state.ReadJournal();
        if (journal.Count == 0)
        {
            return journal;
        }

        var sw = Switch(CancellationToken.None);
        if (journal.All(o => sw.CurrentDriver(o.Address) == VfioDriver && _state.ReadOrigin(o.Address) == o))
        {
            calls.Warn($"An earlier bind of {string.Join(", ", journal.Select(o => o.Address))} finished but did not clear its journal; nothing to undo.");
            _state.ClearJournal();
            return [];
        }

        foreach (var origin in journal.Where(o => sw.CurrentDriver(o.Address) != o.Driver || sw.CurrentOverride(o.Address) != o.Override))
        {
            CheckRecoverable(origin);
        }

        calls.Warn($"An earlier binding did not finish (its process died); returning {string.Join(", ", journal.Select(o => o.Address))} to where they were.");
        RollBack(journal, calls, cause: null);

        // A bind that died while saving its origins left records of devices that are back on them now.
        foreach (var o in journal.Where(o => _state.ReadOrigin(o.Address) == o))
        {
            _state.ForgetOrigin(o.Address);
        }

        return journal;
    }

    // The plan was made before the lock (and before the prompt): a filesystem mounted from a device or a
    // guest started since must still refuse the call, before its first write (D14).
    private void Recheck(IEnumerable<string> addresses, Func<PciDevice, bool> applies, Action<PciDevice> check)
    {
        var reader = _devices.Fresh();
        foreach (var address in addresses.Distinct(StringComparer.Ordinal))
        {
            if (PciAddress.TryParse(address, out var a) && reader.Read(a) is { } device && applies(device))
            {
                check(device);
            }
        }
    }

    private void CheckRecoverable(DeviceOrigin origin)
    {
        // Read now, under the lock: the caller's reader may remember which guests held what earlier.
        var device = PciAddress.TryParse(origin.Address, out var address) ? _devices.Fresh().Read(address) : null;
        string? why = null;
        Exception? inner = null;
        if (device is null)
        {
            why = "the device no longer exists";
        }
        else if (device.InUse.Length > 0)
        {
            why = $"it is held by {VfioUser.Describe(device.InUse)}";
        }
        else if (device.Driver is not null and not VfioDriver)
        {
            // Taking it off a host driver again: the refusals of a bind apply, read as the host is now.
            try
            {
                new BindingSafety(_root).CheckDevice(device);
            }
            catch (PciPassthroughException e)
            {
                why = e.Message;
                inner = e;
            }
        }

        if (why is not null)
        {
            throw ErrorCatalog.JournalNeedsAttention(_state.JournalFile, origin.Address, origin.Driver, why, inner);
        }
    }

    private void Transact(List<DeviceOrigin> origins, Action<DriverSwitch, DeviceOrigin> move, string action, CallerCallbacks calls, Action? beforeClear = null, Action? afterClear = null)
    {
        if (origins.Count == 0 || calls.Stopping)
        {
            return;
        }

        _state.WriteJournal(origins);
        var touched = new List<DeviceOrigin>();
        var sw = Switch(_settings.Cancel);
        try
        {
            foreach (var origin in origins)
            {
                calls.Log($"{origin.Address}: {action} (from {origin.Driver ?? "no driver"}).");
                if (calls.Stopping)
                {
                    throw new OperationCanceledException("The caller stopped during the transaction.");
                }

                touched.Add(origin);
                move(sw, origin);
                calls.Progress(touched.Count, origins.Count);
            }
        }
        catch (Exception e) when (e is BindingStepException or OperationCanceledException or PciPassthroughException)
        {
            // A refusal mid-way (a link out of the root) undoes the devices already moved, as a failed step does.
            RollBack(touched, calls, e);
            if (e is not BindingStepException)
            {
                throw;
            }

            var step = (BindingStepException)e;
            throw ErrorCatalog.BindingFailed(action, step.Address, step.Step, step.Detail, Describe(touched), e);
        }

        beforeClear?.Invoke();
        _state.ClearJournal();
        afterClear?.Invoke();
    }

    // Back to each origin, newest first, on a switch that ignores cancellation: a rollback must finish.
    private void RollBack(IReadOnlyList<DeviceOrigin> touched, CallerCallbacks calls, Exception? cause)
    {
        var sw = Switch(CancellationToken.None);
        var stranded = new List<string>();
        foreach (var origin in touched.Reverse())
        {
            try
            {
                sw.MoveTo(origin.Address, origin.Driver, origin.Override);
                calls.Log($"{origin.Address}: returned to {origin.Driver ?? "no driver"}.");
            }
            catch (BindingStepException e)
            {
                stranded.Add($"{origin.Address} ({e.Step}: {e.Detail}; it should be on {origin.Driver ?? "no driver"})");
            }
        }

        if (stranded.Count > 0)
        {
            // The journal stays, so the next call tries again.
            throw ErrorCatalog.DeviceStranded(stranded, cause);
        }

        _state.ClearJournal();
    }

    private string Describe(IEnumerable<DeviceOrigin> origins)
    {
        var sw = Switch(CancellationToken.None);
        return string.Join(", ", origins.Select(o => $"{o.Address} on {sw.CurrentDriver(o.Address) ?? "no driver"}"));
    }

    /// <summary>
    /// Refuses at planning (so -WhatIf says so too) a driver that is neither loaded nor loadable: no
    /// module of that name, and no module that the device's modalias names.
    /// </summary>
    public void CheckDriverAvailable(string driver, string address)
    {
        var loaded = _root.Exists($"/sys/bus/pci/drivers/{driver}");
        var modules = new KernelModules(_root, _root.TryReadText("/proc/sys/kernel/osrelease")?.Trim());
        if (!loaded && modules.HasModuleTree && !modules.IsAvailable(driver) && !modules.IsBuiltin(driver) && ModuleProviding(driver, address) == driver)
        {
            throw ErrorCatalog.NoSuchDriver(driver, address);
        }
    }

    /// <summary>
    /// The module to modprobe for a driver: the driver's own name when a module has it, else the one
    /// module the device's modalias names (i801_smbus is the driver of the module i2c_i801).
    /// </summary>
    private string ModuleProviding(string driver, string address)
    {
        var modules = new KernelModules(_root, _root.TryReadText("/proc/sys/kernel/osrelease")?.Trim());
        if (!modules.HasModuleTree || modules.IsAvailable(driver))
        {
            return driver;
        }

        var candidates = _aliases.Value.ModulesFor(_root.TryReadText($"{PciDeviceReader.DevicesPath}/{address}/modalias")?.Trim());
        return candidates.Count == 1 ? candidates[0] : driver;
    }

    private bool HasHostDriverCandidate(string address) =>
        _aliases.Value.ModulesFor(_root.TryReadText($"{PciDeviceReader.DevicesPath}/{address}/modalias")?.Trim()).Count > 0;

    private DriverSwitch Switch(CancellationToken cancel) => new(_root, _kernel, _settings.Settle, cancel);
}
