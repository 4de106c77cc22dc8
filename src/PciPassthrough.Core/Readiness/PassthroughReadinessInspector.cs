using PciPassthrough.Host;
using PciPassthrough.HostConfig;
using PciPassthrough.HostFs;
using PciPassthrough.Iommu;
using PciPassthrough.Safety;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Readiness;

/// <summary>
/// The per-device audit: can this device go to a guest now, and after a reboot, and what must be done
/// if not. Host-wide facts (routes, mounts, modprobe.d, udev, qemu.conf) are read once per inspector.
/// </summary>
public sealed class PassthroughReadinessInspector
{
    private readonly HostRoot _root;
    private readonly HostSession _host;
    private readonly Lazy<BootBindings> _bootBindings;
    private readonly Lazy<(string File, string Rule)?> _udevOwnership;
    private readonly Lazy<SriovBootEntry[]> _sriovBoot;

    /// <summary>An inspector over a session: the host-wide facts are the session's, read once.</summary>
    public PassthroughReadinessInspector(HostSession host)
    {
        _host = host;
        _root = host.Root;
        _bootBindings = new(() => BootBindings.Read(_root, host.Modprobe));
        _udevOwnership = new(() => UdevRules.VfioOwnershipRule(_root));
        _sriovBoot = new(() => VfioHostConfiguration.SriovEntriesOrNone(_root));
    }

    public PassthroughReadinessInspector(HostRoot root, PciDeviceReader devices)
        : this(new HostSession(root, devices))
    {
    }

    public PassthroughReadiness Assess(PciDevice device)
    {
        var group = device.IommuGroup is int n ? _host.Groups.Read(n) : null;
        var others = group?.Devices.Where(d => d.PciAddress != device.PciAddress && !d.IsBridge).ToArray() ?? [];
        // The safety rules are the binder's own (DeviceSafetyRules): what it would refuse shows as a Fail
        // here, and no remedy below suggests binding a device that a rule keeps with the host.
        var safety = _host.Safety.Evaluate(device, SafetyPurpose.Assess).Where(f => f.Name is not ("IommuActive" or "NotHeldByGuest")).ToList();
        var blockedBy = safety.Where(f => f.Status == CheckStatus.Fail).Select(f => f.Name).ToList();
        var findings = new List<ReadinessCheck> { IommuEnabled() };
        findings.AddRange(safety.Where(f => f.Name is "IommuGroup" or "Endpoint").Select(f => f.ToCheck()));
        findings.Add(GroupIsolation(device, group, others, blockedBy));
        findings.AddRange(safety.Where(f => f.Name is not ("IommuGroup" or "Endpoint")).Select(f => f.ToCheck()));
        findings.Add(BoundToVfio(device, blockedBy));
        findings.Add(NotInUse(device));
        findings.Add(NotAssignedElsewhere(device));
        var bootBinding = _bootBindings.Value.Find(device);
        var peersOnHostAtBoot = others.Where(o => _bootBindings.Value.Find(o) is null && (o.Driver is not null || HostDrivers(o).Count > 0)).Select(o => o.PciAddress).ToList();
        var notCreated = bootBinding is null ? null : VfNotCreatedAtBoot(device);
        findings.Add(bootBinding is null
            ? new("BindsAtBoot", CheckStatus.Warning, "Nothing binds it to vfio-pci at boot: after a reboot it is back on its host driver.", $"List {device.PciAddress} in DEVICES of {BootBindings.VfioBindConfig} with a vfio-bind service that uses driver_override (which captures only this card), or 'driverctl set-override {device.PciAddress} vfio-pci'.")
            : notCreated is { } vf
            ? new("BindsAtBoot", CheckStatus.Warning, $"Bound at boot: {bootBinding.Description}; but {vf.Why}, so after a reboot there is no such device to bind.", vf.Fix)
            : peersOnHostAtBoot.Count > 0
                ? new("BindsAtBoot", CheckStatus.Warning, $"Bound at boot: {bootBinding.Description}; but its group peers {string.Join(", ", peersOnHostAtBoot)} are not, so after a reboot the group is not viable.", $"Bind the peers at boot too ({BootBindings.VfioBindConfig} DEVICES or driverctl).")
                : new("BindsAtBoot", CheckStatus.Pass, $"Bound at boot: {bootBinding.Description}."));
        findings.Add(HostDriverCannotWin(device, bootBinding, blockedBy));
        findings.Add(DevicePermissions(device, group));
        findings.Add(LibvirtDeviceAcl(device));
        findings.Add(LockedMemory());
        findings.Add(Sriov(device));
        findings.Add(ResetCapability(device));
        if (Topology.AcsOverrideParameters.Check(_root) is { } acsOverride)
        {
            findings.Add(acsOverride);
        }

        return new PassthroughReadiness(device, findings, others.Select(d => d.PciAddress).ToArray());
    }

    // vfio-pci resets a device between guests; without a usable method state leaks from one guest to the next.
    private static ReadinessCheck ResetCapability(PciDevice device)
    {
        const string Name = "ResetCapability";
        var methods = string.Join(" ", device.ResetMethods);
        if (device.IsBridge)
        {
            return new(Name, CheckStatus.NotApplicable, "A bridge: it is not reset for a guest.");
        }

        if (device.SriovRole == SriovRole.VF)
        {
            return new(Name, CheckStatus.Pass, $"A virtual function: FLR is mandatory for VFs{(methods.Length > 0 ? $" (reset_method: {methods})" : "")}.");
        }

        if (!device.CanReset)
        {
            return new(Name, CheckStatus.Fail, $"The kernel offers no reset for it{(device.ResetMethods.Length == 0 ? "" : $" (reset_method: {methods})")}: its state carries over from one guest (or the host) to the next.", "Prefer a device with FLR; if its methods were disabled, Set-PciResetMethod -Default re-enables them.");
        }

        var amdGpu = device.VendorId == "1002" && (device.Class?.StartsWith("03", StringComparison.Ordinal) ?? false);
        if (amdGpu && !device.ResetMethods.Contains("device_specific"))
        {
            return new(Name, CheckStatus.Warning, $"An AMD GPU (reset_method: {methods}): many do not come back from their reset after a guest (the AMD reset bug).", "Consider the vendor-reset module and 'device_specific' in reset_method (Set-PciResetMethod -Method device_specific).");
        }

        if (device.ResetMethods.Any(m => m is "flr" or "af_flr" or "device_specific" or "acpi"))
        {
            return new(Name, CheckStatus.Pass, $"The kernel can reset it: {methods}.");
        }

        return device.ResetMethods.SequenceEqual(["unknown"])
            ? new(Name, CheckStatus.Warning, "The kernel offers a reset but, before 5.15, does not say which method.", "Check lspci -vv for FLReset+ in DevCap; a kernel of 5.15 or later lists the methods in reset_method.")
            : new(Name, CheckStatus.Warning, $"Only {methods} is available: no function-level reset. A PM reset may not clear the device, and a bus reset also resets every other function on the bus.", "Prefer a device with FLR, and keep the device's bus free of functions the host uses.");
    }

    private ReadinessCheck IommuEnabled()
    {
        var support = _host.Iommu;
        var failing = support.Checks.Where(c => c.Status == CheckStatus.Fail).ToList();
        return failing.Count == 0
            ? new("IommuEnabled", CheckStatus.Pass, $"The IOMMU is active ({support.IommuType ?? "type unknown"}) and Test-IommuSupport finds no failure.")
            : new("IommuEnabled", CheckStatus.Fail, "Test-IommuSupport fails: " + string.Join(" ", failing.Select(c => $"{c.Name}: {c.Detail}")), failing[0].Remedy);
    }

    private ReadinessCheck GroupIsolation(PciDevice device, IommuGroup? group, PciDevice[] others, List<string> blockedBy)
    {
        if (device.IommuGroup is int absent && group is null)
        {
            return new("GroupIsolation", CheckStatus.Unknown, $"IOMMU group {absent} is not under /sys/kernel/iommu_groups (the device's link leads out of the tree, or the capture is damaged): who shares it is unknown.", "Capture the tree with sys/kernel/iommu_groups, or check the device's iommu_group link.");
        }

        var why = group is { IsolationDetail: string detail } ? $" Why: {group.IsolationReason}{(group.UpstreamBlocker is null ? "" : " " + group.UpstreamBlocker)}: {detail}" : "";
        if (others.Length == 0)
        {
            // Bridges in the group stay with the host (vfio-pci accepts them), but they say why the group is shared.
            var bridges = group?.Devices.Where(d => d.PciAddress != device.PciAddress && d.IsBridge).Select(d => d.PciAddress).ToList() ?? [];
            var besides = bridges.Count == 0 ? "." : $" but for the bridge {string.Join(", ", bridges)}, which stays with the host.{why}";
            return device.IommuGroup is int g
                ? new("GroupIsolation", CheckStatus.Pass, $"Alone in IOMMU group {g}{besides}")
                : new("GroupIsolation", CheckStatus.NotApplicable, "In no IOMMU group: there is no group to share.");
        }

        var unsafeMembers = others.Select(o => (Device: o, Why: _host.Safety.HostCritical(o))).Where(u => u.Why is not null).ToList();
        if (unsafeMembers.Count > 0)
        {
            return new("GroupIsolation", CheckStatus.Fail, $"Its group also holds {string.Join("; ", unsafeMembers.Select(u => $"{u.Device.PciAddress} ({u.Why!.Detail.TrimEnd('.')})"))}: the whole group goes to the guest, and the host needs those.{why}", "Move the card to a slot with its own IOMMU group (check the board's ACS support); do not pass this group through.");
        }

        var blockers = others.Where(IommuGroup.IsBlocker).ToList();
        var list = string.Join(", ", others.Select(o => $"{o.PciAddress} ({o.Driver ?? "no driver"})"));
        return blockers.Count == 0
            ? new("GroupIsolation", CheckStatus.Pass, $"Shares its group with {list}, which is ready to go along.{why}")
            : new("GroupIsolation", CheckStatus.Warning, $"Shares its group with {list}: all must be on vfio-pci (or driverless) before the group can be used ('group is not viable').{why}", blockers.Any(b => b.Class?.StartsWith("06", StringComparison.Ordinal) ?? false)
                ? $"The group holds a bridge-class device ({string.Join(", ", blockers.Where(b => b.Class?.StartsWith("06", StringComparison.Ordinal) ?? false).Select(b => b.PciAddress))}), which Set-VfioBinding will not assign: {group?.IsolationRemedy ?? "move the card to a slot with its own group."}"
                : blockedBy.Count > 0
                    ? $"The device itself must stay with the host ({string.Join(", ", blockedBy)} fail): do not bind the group."
                    : $"Set-VfioBinding -Address {device.PciAddress} -IncludeGroup binds them together.");
    }

    private static ReadinessCheck BoundToVfio(PciDevice device, List<string> blockedBy)
    {
        var users = device.InUse.Length == 0 ? "" : " In use by " + VfioUser.Describe(device.InUse) + ".";
        var remedy = blockedBy.Count > 0
            ? $"Keep it on the host: {string.Join(", ", blockedBy)} fail, and Set-VfioBinding refuses it for the same reasons."
            : $"Set-VfioBinding -Address {device.PciAddress}";
        return device.Driver switch
        {
            "vfio-pci" => new("BoundToVfio", CheckStatus.Pass, "Bound to vfio-pci." + users),
            null => new("BoundToVfio", CheckStatus.Warning, "No driver holds it: vfio-pci is not bound yet." + users, remedy),
            var d => new("BoundToVfio", CheckStatus.Warning, $"Bound to the host driver {d}." + users, remedy),
        };
    }

    private static ReadinessCheck NotInUse(PciDevice device) => device.Usage switch
    {
        DeviceUsage.InUse => new("NotInUse", CheckStatus.Warning, $"It is held by {VfioUser.Describe(device.InUse)}: another guest cannot take it now.", VfioUser.StopAdvice(device.InUse)),
        DeviceUsage.Unknown => new("NotInUse", CheckStatus.Unknown, VfioUser.UnknownDetail, VfioUser.UnknownRemedy),
        _ => new("NotInUse", CheckStatus.Pass, "No process holds it open."),
    };

    // A defined domain that names the device takes it when it starts: the admin should know before giving it to another.
    private static ReadinessCheck NotAssignedElsewhere(PciDevice device) => device.AssignedNotRunning.Length == 0
        ? new("NotAssignedElsewhere", CheckStatus.Pass, "No defined libvirt domain that is not running names it.")
        : new("NotAssignedElsewhere", CheckStatus.Warning,
            $"Defined but not running, {string.Join(", ", device.AssignedNotRunning.Select(a => a.ToString()))} name{(device.AssignedNotRunning.Length == 1 ? "s" : "")} it in a hostdev: starting {(device.AssignedNotRunning.Length == 1 ? "that domain" : "one of them")} takes the device (or fails while another guest holds it).",
            $"Remove the hostdev from {string.Join(", ", device.AssignedNotRunning.Select(a => a.DomainName))} (virsh edit) if the device is to go elsewhere.");

    private ReadinessCheck HostDriverCannotWin(PciDevice device, BootBinding? bootBinding, List<string> blockedBy)
    {
        var drivers = HostDrivers(device);
        if (drivers.Count == 0)
        {
            return new("HostDriverCannotWin", CheckStatus.NotApplicable, "No host driver claims this device.");
        }

        if (blockedBy.Count > 0 && bootBinding is null)
        {
            // Blacklisting the driver of the host's own disk or NIC would cut the host off at boot.
            return new("HostDriverCannotWin", CheckStatus.NotApplicable, $"The host keeps this device ({string.Join(", ", blockedBy)} fail), so its driver {string.Join(", ", drivers)} must keep it at boot.");
        }

        if (bootBinding?.Kind == BootBindingKind.DriverOverride)
        {
            return new("HostDriverCannotWin", CheckStatus.Pass, $"A driver_override set when the device appears ({bootBinding.Description}) keeps {string.Join(", ", drivers)} off it.");
        }

        var modprobe = _host.Modprobe;
        var racing = drivers.Where(d => !modprobe.Blacklisted.Contains(d) && !modprobe.LoadsVfioBefore(d)).ToList();
        return racing.Count == 0
            ? new("HostDriverCannotWin", CheckStatus.Pass, $"The host driver ({string.Join(", ", drivers)}) is blacklisted or loads after vfio-pci.")
            : new("HostDriverCannotWin", CheckStatus.Warning, $"The host driver {string.Join(", ", racing)} can take the device at boot before vfio-pci does.", $"Add 'softdep {racing[0]} pre: vfio-pci' to a file in /etc/modprobe.d (safe when other devices use {racing[0]}), or 'blacklist {racing[0]}' if no host device needs it, and rebuild the initramfs.");
    }

    // The host drivers that would claim the device: its modalias against modules.alias, and its current driver.
    private List<string> HostDrivers(PciDevice device)
    {
        var modalias = _root.TryReadText($"/sys/bus/pci/devices/{device.PciAddress}/modalias")?.Trim();
        var drivers = _host.Aliases.ModulesFor(modalias).ToList();
        if (device.Driver is string current && current != "vfio-pci" && !drivers.Contains(KernelModules.Normalize(current)))
        {
            drivers.Add(KernelModules.Normalize(current));
        }

        return drivers;
    }

    private ReadinessCheck DevicePermissions(PciDevice device, IommuGroup? group)
    {
        var rule = _udevOwnership.Value;
        var node = group?.DevicePath is { } p ? $" {p.Path} is {p.Owner}:{p.Group} {p.Mode}." : "";
        return rule is { } r
            ? new("DevicePermissions", CheckStatus.Pass, $"The udev rule in {r.File} sets /dev/vfio ownership ({r.Rule}).{node}")
            : new("DevicePermissions", CheckStatus.Warning, $"No udev rule sets /dev/vfio ownership: group devices are root-only unless libvirt adjusts them.{node}", "Add SUBSYSTEM==\"vfio\", OWNER=\"oneadmin\", GROUP=\"kvm\", MODE=\"0660\" to a rule file in /etc/udev/rules.d (the guide's ownership for OpenNebula).");
    }

    private ReadinessCheck LibvirtDeviceAcl(PciDevice device)
    {
        var acl = _host.LibvirtAcl;
        if (!acl.FileExists)
        {
            return new("LibvirtDeviceAcl", CheckStatus.NotApplicable, $"No {QemuConfAcl.Path}: libvirt is not installed here.");
        }

        if (acl.Unreadable)
        {
            return new("LibvirtDeviceAcl", CheckStatus.Warning, $"{QemuConfAcl.Path} exists but cannot be read.", "Run as root to check libvirt's device ACL.");
        }

        if (acl.Error is not null)
        {
            return new("LibvirtDeviceAcl", CheckStatus.Fail, $"{QemuConfAcl.Path}: {acl.Error}.", "Fix the cgroup_device_acl list by hand (quoted paths between [ and ]) before libvirt restarts.");
        }

        if (acl.Entries is null)
        {
            return new("LibvirtDeviceAcl", CheckStatus.Pass, "cgroup_device_acl is not set: libvirt uses its defaults and admits each guest's host devices itself.");
        }

        var missingDefaults = QemuConfAcl.LibvirtDefaults.Where(d => d != "/dev/kqemu" && !acl.Entries.Contains(d)).ToList();
        var current = device.IommuGroup is int g ? $"/dev/vfio/{g}" : null;
        var groups = _host.Groups.ListNumbers();
        var stale = acl.VfioGroups().Where(n => n != device.IommuGroup && !groups.Contains(n)).Select(n => $"/dev/vfio/{n}").ToList();
        var problems = new List<string>();
        if (current is not null && !acl.Entries.Contains(current))
        {
            problems.Add($"it does not name {current}, the device's current group" + (acl.VfioGroups().Any() ? $" (it names {string.Join(", ", acl.VfioGroups().Select(n => $"/dev/vfio/{n}"))}; group numbers change across reboots)" : ""));
        }

        if (stale.Count > 0)
        {
            problems.Add($"it names groups that no longer exist: {string.Join(", ", stale)}");
        }

        if (!acl.Entries.Contains("/dev/vfio/vfio"))
        {
            problems.Add("it lacks /dev/vfio/vfio");
        }

        if (missingDefaults.Count > 0)
        {
            problems.Add($"it drops libvirt's defaults {string.Join(", ", missingDefaults)}");
        }

        return problems.Count == 0
            ? new("LibvirtDeviceAcl", CheckStatus.Pass, current is null ? "cgroup_device_acl names /dev/vfio/vfio and keeps libvirt's defaults." : $"cgroup_device_acl names /dev/vfio/vfio and {current}.")
            : new("LibvirtDeviceAcl", CheckStatus.Warning, $"cgroup_device_acl is set, but {string.Join("; ", problems)}.", "Keep libvirt's defaults in cgroup_device_acl and list /dev/vfio/vfio and the CURRENT group devices (Get-IommuGroup), then restart libvirtd.");
    }

    private ReadinessCheck LockedMemory()
    {
        var line = (_root.TryReadText("/proc/self/limits") ?? "").Split('\n').FirstOrDefault(l => l.StartsWith("Max locked memory", StringComparison.Ordinal));
        var soft = line?[17..].Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        if (soft is null)
        {
            return new("LockedMemory", CheckStatus.Warning, "The locked-memory limit cannot be read.", "Guests with host devices pin all their RAM: make sure the hypervisor's memlock limit covers it.");
        }

        if (soft == "unlimited" || _host.LibvirtAcl.FileExists)
        {
            return new("LockedMemory", CheckStatus.Pass, $"Max locked memory is {soft}{(soft == "unlimited" ? "" : " bytes here; libvirt raises it for each guest with host devices")}.");
        }

        return new("LockedMemory", CheckStatus.Warning, $"Max locked memory is {soft} bytes, and a guest with a host device pins all its RAM ('VFIO_MAP_DMA ... Cannot allocate memory').", "Raise the hypervisor's memlock limit (LimitMEMLOCK=infinity, or memlock in /etc/security/limits.conf) above the guest's RAM.");
    }

    // A VF exists after a reboot only once its PF's VFs are created again (the kernel starts every PF with none):
    // binding it at boot needs the PF in the boot-time SR-IOV configuration, with enough VFs to reach its index.
    private (string Why, string Fix)? VfNotCreatedAtBoot(PciDevice device)
    {
        if (device.SriovRole != SriovRole.VF || device.PhysicalFunction is not string pfAddress)
        {
            return null;
        }

        var pf = PciAddress.TryParse(pfAddress, out var a) ? _host.Devices.Read(a) : null;
        var index = pf is null ? -1 : Array.IndexOf(pf.VirtualFunctions, device.PciAddress);
        var needed = Math.Max(Math.Max(index + 1, 1), pf?.NumVfs ?? 0);
        var fix = $"Persist the PF's VFs: Set-VfioHostConfiguration -VirtualFunctionCount @{{ '{pfAddress}' = {needed} }} (or -PersistVirtualFunctions), so that {SriovBootService.UnitName} creates them before vfio-bind.service runs.";
        var entry = _sriovBoot.Value.FirstOrDefault(e => e.PciAddress == pfAddress);
        if (entry is null)
        {
            return ($"it is a VF of {pfAddress}, whose VFs nothing creates at boot ({SriovBootConfiguration.Path} does not list the PF)", fix);
        }

        return index >= entry.NumVfs
            ? ($"it is VF {index} of {pfAddress}, and the boot creates only {entry.NumVfs} VFs there", fix)
            : null;
    }

    private ReadinessCheck Sriov(PciDevice device)
    {
        switch (device.SriovRole)
        {
            case SriovRole.PF:
                return new("Sriov", CheckStatus.NotApplicable, "A physical function: NoActiveVirtualFunctions judges it.");
            case SriovRole.VF:
                var pf = device.PhysicalFunction is string a && PciAddress.TryParse(a, out var pfa) ? _host.Devices.Read(pfa) : null;
                if (pf is null)
                {
                    return new("Sriov", CheckStatus.Warning, $"A virtual function whose PF {device.PhysicalFunction ?? "(unknown)"} cannot be read.", "Check the PF with Get-PciDevice.");
                }

                return pf.Driver is null or "vfio-pci"
                    ? new("Sriov", CheckStatus.Fail, $"A virtual function whose PF {pf.PciAddress} is {(pf.Driver is null ? "without a driver" : "on vfio-pci")}: the VF needs the PF's host driver.", $"Return the PF to its driver: Remove-VfioBinding -Address {pf.PciAddress}.")
                    : new("Sriov", CheckStatus.Pass, $"A virtual function; its PF {pf.PciAddress} is on {pf.Driver}.");
            default:
                return new("Sriov", CheckStatus.NotApplicable, "Not an SR-IOV function.");
        }
    }
}
