using System.Diagnostics;
using PciPassthrough.Binding;
using PciPassthrough.Host;
using PciPassthrough.HostFs;
using PciPassthrough.Safety;
using PciPassthrough.Sysfs;
using PciPassthrough.Vfio;

namespace PciPassthrough.Sriov;

/// <summary>What the caller asks of one PF: a count (or the maximum), autoprobe, and whether refusals -Force passes are passed.</summary>
public sealed record VirtualFunctionCountRequest(int? Count, bool Maximum, bool? DriversAutoprobe, bool Force);

/// <summary>Timing, privilege and cancellation of one call.</summary>
public sealed record VirtualFunctionCountSettings(TimeSpan WriteTimeout, TimeSpan LockTimeout, bool RequireRoot, CancellationToken Cancel)
{
    public static VirtualFunctionCountSettings For(HostRoot root, CancellationToken cancel) =>
        new(TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(60), root.IsLiveHost, cancel);
}

/// <summary>
/// Changes how many VFs a PF has, the way the kernel wants it (drivers/pci/iov.c): under the module's lock, 0
/// first when the count changes from a non-zero value (else EBUSY), autoprobe before the VFs exist (it only
/// affects VFs enabled later), then N; every write with a timeout (a write blocks while vfio holds a VF's device
/// fd), then waits for the virtfn links. The kernel does not refuse to remove VFs that guests use: this class
/// does, from the same in-use scan Get-PciDevice reports.
/// </summary>
public sealed class VirtualFunctionCountChanger(HostSession host, IKernel kernel, VirtualFunctionCountSettings settings)
{
    private const string VfioDriver = VfioBinder.VfioDriver;

    /// <summary>
    /// The plan for one PF, or the first refusal (in the documented order): NotAnSriovPhysicalFunction,
    /// VirtualFunctionCountOutOfRange, NvidiaUseSriovManage, PhysicalFunctionHasNoDriver, PhysicalFunctionOnVfio,
    /// VirtualFunctionInUse (never forced), VirtualFunctionsBoundToVfio and PhysicalFunctionIsHostCritical (-Force).
    /// </summary>
    public VirtualFunctionCountPlan Plan(PciDevice pf, VirtualFunctionCountRequest request) => Plan(pf, request, host.Devices, host.Safety);

    private VirtualFunctionCountPlan Plan(PciDevice pf, VirtualFunctionCountRequest request, PciDeviceReader reader, DeviceSafetyRules rules)
    {
        if (pf.SriovRole != SriovRole.PF)
        {
            throw ErrorCatalog.NotAnSriovPhysicalFunction(pf);
        }

        var count = request.Maximum ? pf.TotalVfs ?? throw ErrorCatalog.NotAnSriovPhysicalFunction(pf) : request.Count ?? 0;
        if (count < 0 || (pf.TotalVfs is int total && count > total))
        {
            throw ErrorCatalog.VirtualFunctionCountOutOfRange(pf, VirtualFunctionCountPlan.Text(count));
        }

        var previous = pf.NumVfs ?? 0;
        var dir = $"{PciDeviceReader.DevicesPath}/{pf.PciAddress}";
        var writes = new List<SysfsWrite>();
        var existing = pf.VirtualFunctions.Select(a => reader.Read(PciAddress.Parse(a))).OfType<PciDevice>().ToList();
        if (count != previous)
        {
            CheckCountChange(pf, existing, request.Force, rules);
            if (previous > 0)
            {
                writes.Add(new($"{dir}/sriov_numvfs", "0"));
            }
        }

        // Autoprobe decides whether VFs created from now on bind host drivers; VFs for guests should not.
        bool? autoprobe = null;
        var wanted = request.DriversAutoprobe ?? false;
        if ((request.DriversAutoprobe is not null || (count > 0 && count != previous)) && pf.DriversAutoprobe is bool current && current != wanted)
        {
            autoprobe = wanted;
            writes.Add(new($"{dir}/sriov_drivers_autoprobe", wanted ? "1" : "0"));
        }

        if (count > 0 && count != previous)
        {
            writes.Add(new($"{dir}/sriov_numvfs", VirtualFunctionCountPlan.Text(count)));
        }

        return new VirtualFunctionCountPlan
        {
            PhysicalFunction = pf,
            PreviousCount = previous,
            Count = count,
            DriversAutoprobe = autoprobe,
            Writes = writes,
            Disappearing = count != previous ? pf.VirtualFunctions : [],
            Appearing = count != previous ? VirtualFunctionCountPlan.VfAddresses(pf, count) : [],
            ExistingVirtualFunctions = existing,
        };
    }

    private void CheckCountChange(PciDevice pf, IReadOnlyList<PciDevice> existing, bool force, DeviceSafetyRules rules)
    {
        if (pf.VendorId == "10de" && pf.Driver == "nvidia")
        {
            throw ErrorCatalog.NvidiaUseSriovManage(pf);
        }

        if (pf.Driver is null)
        {
            throw ErrorCatalog.PhysicalFunctionHasNoDriver(pf);
        }

        if (pf.Driver == VfioDriver && host.Root.TryReadText("/sys/module/vfio_pci/parameters/enable_sriov")?.Trim() is not ("Y" or "1"))
        {
            throw ErrorCatalog.PhysicalFunctionOnVfio(pf);
        }

        var held = existing.Where(v => v.InUse.Length > 0).Select(v => $"{v.PciAddress}: {VfioUser.Describe(v.InUse)}").ToList();
        if (held.Count > 0)
        {
            throw ErrorCatalog.VirtualFunctionInUse(pf, held, users: existing.SelectMany(v => v.InUse));
        }

        if (force)
        {
            return;
        }

        var bound = existing.Where(v => v.Driver == VfioDriver).Select(v => v.PciAddress).ToList();
        if (bound.Count > 0)
        {
            throw ErrorCatalog.VirtualFunctionsBoundToVfio(pf, bound);
        }

        // The PF's own host-critical roles, and a VF the host itself uses (its netdev carries the default route).
        foreach (var device in existing.Prepend(pf))
        {
            if (rules.HostCritical(device) is { } critical)
            {
                var who = device == pf ? "" : $"its VF {device.PciAddress}: ";
                throw ErrorCatalog.PhysicalFunctionIsHostCritical(pf, who + char.ToLowerInvariant(critical.Detail[0]) + critical.Detail[1..].TrimEnd('.'), critical.Remedy);
            }
        }
    }

    /// <summary>
    /// Carries the plan out under the module's lock: the PF is read again and planned again with fresh facts (a
    /// guest may have started since), each write runs with the timeout, the virtfn links are waited for, and the
    /// PF is read back. With <paramref name="binder"/>, the new VFs then go to vfio-pci with its verified protocol.
    /// </summary>
    public VirtualFunctionChange Execute(VirtualFunctionCountPlan plan, VirtualFunctionCountRequest request, Action<string> log, VfioBinder? binder = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(log);
        if (settings.RequireRoot && !Privileges.IsRoot)
        {
            throw ErrorCatalog.SriovNeedsRoot(host.Root.Path);
        }

        var clock = Stopwatch.StartNew();
        PciDevice after;
        var address = PciAddress.Parse(plan.PhysicalFunction.PciAddress);
        using (BindingLock.Acquire(host.Root, settings.LockTimeout, settings.Cancel, log))
        {
            var reader = host.Devices.Fresh();
            var fresh = reader.Read(address) ?? throw ErrorCatalog.PhysicalFunctionVanished(address.ToString());
            var now = Plan(fresh, request, reader, new DeviceSafetyRules(host.Root));
            foreach (var write in now.Writes)
            {
                settings.Cancel.ThrowIfCancellationRequested();
                log($"{fresh.PciAddress}: {write}.");
                Write(fresh, write, now);
            }

            var enabled = WaitForVirtualFunctions(fresh, now, log);
            after = host.Devices.Fresh().Read(address) ?? fresh;
            if (now.Count > 0 && enabled < now.Count)
            {
                log($"{fresh.PciAddress}: the driver enabled {enabled} of the {now.Count} VFs asked for.");
            }
        }

        var bound = Array.Empty<string>();
        if (binder is not null && after.VirtualFunctions.Length > 0)
        {
            // After the lock is released: the binder takes it itself, and checks each VF again under it.
            var targets = after.VirtualFunctions.Select(a => host.Devices.Fresh().Read(PciAddress.Parse(a))).OfType<PciDevice>().Where(v => v.Driver != VfioDriver).ToList();
            foreach (var vf in targets)
            {
                binder.PlanBind(vf, includeGroup: false, request.Force);
            }

            bound = binder.Bind(targets.Select(v => v.PciAddress).ToList(), log, force: request.Force).Select(r => r.PciAddress).ToArray();
        }

        return new VirtualFunctionChange
        {
            PciAddress = after.PciAddress,
            PreviousNumVfs = plan.PreviousCount,
            NumVfs = after.NumVfs ?? 0,
            DriversAutoprobe = after.DriversAutoprobe,
            VirtualFunctions = after.VirtualFunctions,
            BoundToVfio = bound,
            Duration = clock.Elapsed,
            Root = host.Root.Path,
        };
    }

    private void Write(PciDevice pf, SysfsWrite write, VirtualFunctionCountPlan plan)
    {
        bool done;
        try
        {
            done = TimedWrite.TryWrite(kernel, write.Path, write.Value, settings.WriteTimeout);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw write.Path.EndsWith("/sriov_numvfs", StringComparison.Ordinal)
                ? ErrorCatalog.FromSriovWrite(pf, write.Path, write.Value, e)
                : ErrorCatalog.SriovWriteFailed(pf, write.Path, write.Value, e.Message, e);
        }

        if (!done)
        {
            throw ErrorCatalog.SriovWriteTimeout(pf, write.Path, write.Value, settings.WriteTimeout, Holders(plan));
        }
    }

    // Who holds the VFs now: the groups' holders, and every process with a VFIO device fd open (the kind of hold
    // that blocks the write, and one the group scan cannot see once the group fd is closed). Only /proc is read
    // again: while the write blocks, the kernel holds the VFs' device locks, and reading their driver_override
    // (or the PF's sriov_numvfs) would block this call too.
    private List<string> Holders(VirtualFunctionCountPlan plan)
    {
        var users = VfioUsageScanner.Scan(host.Root);
        var holders = plan.ExistingVirtualFunctions
            .Select(v => (v, Held: users.For(v.IommuGroup, v.PciAddress)))
            .Where(x => x.Held.Length > 0)
            .Select(x => $"{x.v.PciAddress} (group {x.v.IommuGroup}): {string.Join(", ", x.Held.Select(u => u.ToString()))}")
            .ToList();
        var deviceFds = VfioUsageScanner.DeviceFdHolders(host.Root);
        if (deviceFds.Count > 0)
        {
            holders.Add($"a VFIO device fd open in {string.Join(", ", deviceFds.Select(u => u.ToString()))}");
        }

        return holders;
    }

    // The kernel creates the VF devices before the write returns, but their links (and udev's view) follow; read
    // sriov_numvfs back (a driver may enable fewer) and wait, bounded, until exactly that many virtfn links exist.
    private int WaitForVirtualFunctions(PciDevice pf, VirtualFunctionCountPlan plan, Action<string> log)
    {
        var dir = $"{PciDeviceReader.DevicesPath}/{pf.PciAddress}";
        var enabled = SysfsNumber(host.Root.TryReadText(dir + "/sriov_numvfs")) ?? plan.Count;
        var waited = Stopwatch.StartNew();
        while (!(host.Root.Exists($"{dir}/virtfn{enabled - 1}") || enabled == 0) || host.Root.Exists($"{dir}/virtfn{enabled}"))
        {
            if (waited.Elapsed > settings.WriteTimeout)
            {
                throw ErrorCatalog.SriovWriteFailed(pf, dir + "/sriov_numvfs", VirtualFunctionCountPlan.Text(plan.Count), $"sriov_numvfs reads {enabled}, but the virtfn links did not follow within {settings.WriteTimeout.TotalSeconds:0} s.");
            }

            settings.Cancel.ThrowIfCancellationRequested();
            Thread.Sleep(50);
        }

        log($"{pf.PciAddress}: {enabled} VFs enabled.");
        return enabled;
    }

    private static int? SysfsNumber(string? text) =>
        int.TryParse(text?.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : null;
}
