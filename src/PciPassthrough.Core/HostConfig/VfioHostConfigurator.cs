using PciPassthrough.Host;
using PciPassthrough.HostConfig.Boot;
using PciPassthrough.HostFs;
using PciPassthrough.Iommu;
using PciPassthrough.Safety;
using PciPassthrough.Sysfs;

namespace PciPassthrough.HostConfig;

/// <summary>
/// Plans every file Set-VfioHostConfiguration writes, from a request. Planning reads and validates
/// everything first (devices, existing files): a refusal or a malformed file stops the whole plan
/// before anything is written.
/// </summary>
public static class VfioHostConfigurator
{
    public static IReadOnlyList<ConfigFileChange> Plan(HostRoot root, HostConfigurationRequest request, PciDeviceReader devices) =>
        Plan(new HostSession(root, devices), request);

    public static IReadOnlyList<ConfigFileChange> Plan(HostSession host, HostConfigurationRequest request, Action<string>? warn = null)
    {
        var (root, devices) = (host.Root, host.Devices);
        // One blacklist for modprobe.d and the command line: this run's drivers join the earlier ones.
        var blacklistChanges = request.BlacklistDrivers.Count > 0 || request.RemoveBlacklistDrivers.Count > 0;
        var current = DriverBlacklist.Current(root);
        var blacklist = DriverBlacklist.Merge(current, request.BlacklistDrivers, request.RemoveBlacklistDrivers);
        request = request with { BlacklistDrivers = blacklistChanges ? blacklist : [] };
        // Binding the host's disk or network at boot would strand it at every boot: every device this call adds is
        // checked (those bound at boot already were checked when they were added, and a guest may hold them now).
        void Check(PciDevice d)
        {
            if (!request.Force && host.Safety.FirstFailure(d, SafetyPurpose.BootBind) is { } failure)
            {
                throw failure.ToRefusal(d);
            }
        }

        var boot = BootBindingPlanner.Plan(host, request, Check);
        foreach (var address in boot?.Leaving ?? [])
        {
            warn?.Invoke($"{address} leaves the boot binding (-Replace): after the next boot it stays on its host driver.");
        }

        // ... and so would a boot-time setting that captures more devices than those named (ids=, a blacklist).
        foreach (var d in CapturedAtBoot(host, request))
        {
            Check(d);
        }

        var support = host.Iommu;
        var changes = new List<ConfigFileChange>();
        if (request.KernelCommandLine)
        {
            var removed = current.Except(blacklist, StringComparer.Ordinal).Concat(request.RemoveBlacklistDrivers).ToList();
            var loader = BootCommandLine.Resolve(root, request.BootLoader);
            changes.Add(ConfigFiles.Plan(root, BootCommandLine.PathOf(loader), text => BootCommandLine.Apply(loader, root, text, KernelArguments(request, support), removed)));
        }

        var initramfs = request.Initramfs == InitramfsKind.Auto ? Detect(root) : request.Initramfs;
        var modules = InitramfsModules(root, request.KernelRelease ?? support.KernelRelease);
        if (initramfs == InitramfsKind.Dracut)
        {
            changes.Add(ConfigFiles.Plan(root, ModprobeFiles.DracutPath, _ => ModprobeFiles.Dracut(modules)));
        }
        else if (initramfs == InitramfsKind.InitramfsTools)
        {
            changes.Add(ConfigFiles.Plan(root, ModprobeFiles.InitramfsToolsPath, text => ModprobeFiles.InitramfsTools(text, modules)));
        }

        if (blacklistChanges)
        {
            changes.Add(ConfigFiles.Plan(root, ModprobeFiles.BlacklistPath, _ => ModprobeFiles.Blacklist(blacklist)));
        }

        if (request.SoftdepDrivers.Count > 0 || request.VfioPciIds.Count > 0)
        {
            changes.Add(ConfigFiles.Plan(root, ModprobeFiles.VfioPath, _ => ModprobeFiles.Vfio(request.SoftdepDrivers, request.VfioPciIds)));
        }

        if (boot is not null)
        {
            changes.Add(ConfigFiles.Plan(root, BootBindings.VfioBindConfig, _ => VfioBindService.Config(boot.Entries)));
            changes.Add(ConfigFiles.Plan(root, VfioBindService.ScriptPath, _ => VfioBindService.Script));
            changes.Add(ConfigFiles.Plan(root, VfioBindService.UnitPath, _ => VfioBindService.Unit));
            changes.Add(ConfigFiles.Plan(root, ModprobeFiles.UdevRulePath, _ => ModprobeFiles.UdevRule(request.UdevOwner, request.UdevGroup, request.UdevMode)));
            if (root.Exists(QemuConfAcl.Path))
            {
                var groups = boot.Present.Select(d => d.IommuGroup).OfType<int>().Distinct().ToList();
                // A group no listed device is in any more counts as gone: its entry is dropped like a stale one.
                var existing = host.Groups.ListNumbers().Except(boot.DroppedGroups).ToList();
                changes.Add(ConfigFiles.Plan(root, QemuConfAcl.Path, text => QemuConfAcl.Apply(text, groups, existing)));
            }
        }

        if (SriovBootPlanner.Touches(request))
        {
            var entries = SriovBootPlanner.Plan(host, request, warn);
            changes.Add(ConfigFiles.Plan(root, SriovBootConfiguration.Path, _ => SriovBootConfiguration.Render(entries)));
            changes.Add(ConfigFiles.Plan(root, SriovBootService.ScriptPath, _ => SriovBootService.Script));
            changes.Add(ConfigFiles.Plan(root, SriovBootService.UnitPath, _ => SriovBootService.Unit));
        }

        return changes;
    }

    /// <summary>
    /// The devices that vfio-pci ids= would claim (every device with those ids) and that a blacklist
    /// would leave without their driver (every device on it now, or whose modalias names it).
    /// </summary>
    private static IEnumerable<PciDevice> CapturedAtBoot(HostSession host, HostConfigurationRequest request)
    {
        var (root, devices) = (host.Root, host.Devices);
        if (request.VfioPciIds.Count == 0 && request.BlacklistDrivers.Count == 0)
        {
            return [];
        }

        var all = devices.ReadAll().ToList();
        var blacklisted = request.BlacklistDrivers.Select(KernelModules.Normalize).ToHashSet(StringComparer.Ordinal);
        var aliases = host.Aliases;
        return all.Where(d =>
            request.VfioPciIds.Any(id => string.Equals(id, $"{d.VendorId}:{d.DeviceId}", StringComparison.OrdinalIgnoreCase))
            || (d.Driver is string drv && blacklisted.Contains(KernelModules.Normalize(drv)))
            || (blacklisted.Count > 0 && aliases.ModulesFor(root.TryReadText($"{PciDeviceReader.DevicesPath}/{d.PciAddress}/modalias")?.Trim()).Any(blacklisted.Contains)));
    }

    /// <summary>The commands that make the written files take effect, for the caller to run or report.</summary>
    public static IReadOnlyList<string> FollowUpCommands(HostRoot root, IReadOnlyList<ConfigFileChange> changes)
    {
        var commands = new List<string>();
        bool Changed(string path) => changes.Any(c => c.Path == path && c.Action != FileAction.Unchanged);
        foreach (var change in changes.Where(c => c.Action != FileAction.Unchanged))
        {
            if (BootCommandLine.RegenerateCommandFor(root, change.Path) is { } regenerate)
            {
                commands.Add(regenerate);
            }
        }

        // modprobe.d reaches the early boot only through the initramfs: rebuild it whenever they change.
        if (Changed(ModprobeFiles.DracutPath) || Changed(ModprobeFiles.InitramfsToolsPath) || Changed(ModprobeFiles.BlacklistPath) || Changed(ModprobeFiles.VfioPath))
        {
            commands.Add(Changed(ModprobeFiles.InitramfsToolsPath) || Detect(root) == InitramfsKind.InitramfsTools ? "update-initramfs -u" : "dracut --force");
        }

        if (Changed(VfioBindService.UnitPath))
        {
            commands.Add("systemctl daemon-reload && systemctl enable vfio-bind.service");
        }

        if (Changed(SriovBootService.UnitPath))
        {
            commands.Add($"systemctl daemon-reload && systemctl enable {SriovBootService.UnitName}");
        }

        if (Changed(ModprobeFiles.UdevRulePath))
        {
            commands.Add("udevadm control --reload-rules && udevadm trigger --subsystem-match=vfio");
        }

        if (Changed(QemuConfAcl.Path))
        {
            commands.Add("systemctl restart libvirtd");
        }

        return commands;
    }

    public static InitramfsKind Detect(HostRoot root) =>
        root.Exists("/etc/dracut.conf.d") || root.Exists("/usr/bin/dracut") ? InitramfsKind.Dracut
        : root.Exists("/etc/initramfs-tools") ? InitramfsKind.InitramfsTools
        : InitramfsKind.None;

    /// <summary>vfio's modules for the target kernel; vfio_virqfd only where it still exists (it was folded into vfio in 6.2).</summary>
    public static IReadOnlyList<string> InitramfsModules(HostRoot root, string? release)
    {
        var kernel = new KernelModules(root, release);
        var modules = new List<string> { "vfio", "vfio_iommu_type1", "vfio_pci" };
        foreach (var optional in new[] { "vfio_pci_core", "vfio_virqfd" })
        {
            if (kernel.HasModuleTree && (kernel.IsAvailable(optional) || kernel.IsBuiltin(optional)))
            {
                modules.Add(optional);
            }
        }

        return modules;
    }

    private static List<string> KernelArguments(HostConfigurationRequest request, IommuSupportReport support)
    {
        var intel = request.Iommu switch
        {
            "intel" => true,
            "amd" => false,
            _ => support.IommuType == "Intel VT-d" || (support.IommuType is null && support.CpuVendor != "AuthenticAMD"),
        };
        var args = new List<string> { intel ? "intel_iommu=on" : "amd_iommu=on" };
        if (request.IommuPassthrough)
        {
            args.Add("iommu=pt");
        }

        if (request.BlacklistDrivers.Count > 0)
        {
            args.Add("rd.driver.pre=vfio-pci");
            args.Add("rd.driver.blacklist=" + string.Join(',', request.BlacklistDrivers));
        }

        return args;
    }
}
