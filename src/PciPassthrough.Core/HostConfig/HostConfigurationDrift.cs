using PciPassthrough.HostConfig.Boot;
using PciPassthrough.HostFs;
using PciPassthrough.Iommu;
using PciPassthrough.Sysfs;

namespace PciPassthrough.HostConfig;

/// <summary>Where the configuration files and the running host disagree, each as a finding with its fix.</summary>
public static class HostConfigurationDrift
{
    private static readonly string[] BootArguments = ["intel_iommu", "amd_iommu", "iommu", "rd.driver.pre", "rd.driver.blacklist", "vfio-pci.ids", "modprobe.blacklist"];

    public static IReadOnlyList<ReadinessCheck> Check(HostRoot root, PciDeviceReader devices)
    {
        var config = VfioHostConfiguration.Read(root);
        var checks = new List<ReadinessCheck>();

        // Kernel command line: the IOMMU-related arguments the boot loader passes should be the running ones.
        var path = config.BootCommandLinePath;
        string? parseError = null;
        try
        {
            BootCommandLine.Arguments(config.BootLoader, root.TryReadText(path));
        }
        catch (PciPassthroughException e)
        {
            parseError = e.Message;
        }

        var configured = config.BootCommandLine.Where(a => BootArguments.Contains(a.Split('=')[0])).ToHashSet(StringComparer.Ordinal);
        var running = config.LiveCommandLine.Where(a => BootArguments.Contains(a.Split('=')[0])).ToHashSet(StringComparer.Ordinal);
        checks.Add(parseError is not null
            ? new("KernelCommandLine", CheckStatus.Fail, parseError, $"Fix the kernel command line in {path} by hand.")
            : configured.SetEquals(running)
                ? new("KernelCommandLine", CheckStatus.Pass, configured.Count == 0 ? "No VFIO-related argument configured or running." : $"Running as configured: {string.Join(' ', configured.Order(StringComparer.Ordinal))}.")
                : new("KernelCommandLine", CheckStatus.Warning, $"{path} has '{string.Join(' ', configured.Order(StringComparer.Ordinal))}' but the kernel runs with '{string.Join(' ', running.Order(StringComparer.Ordinal))}'.", $"Regenerate the boot configuration ({BootCommandLine.RegenerateCommand(config.BootLoader, root)}) and reboot."));

        checks.Add(BootBindDevices(root, devices, config.BootBindAddresses));

        // Blacklisted drivers that are loaded anyway.
        var loaded = config.BlacklistedDrivers.Where(d => Directory.Exists(root.Resolve("/sys/module/" + KernelModules.Normalize(d)))).ToList();
        checks.Add(loaded.Count == 0
            ? new("BlacklistedDrivers", CheckStatus.Pass, config.BlacklistedDrivers.Length == 0 ? "No driver is blacklisted." : $"Blacklisted and not loaded: {string.Join(", ", config.BlacklistedDrivers)}.")
            : new("BlacklistedDrivers", CheckStatus.Warning, $"Blacklisted but loaded anyway: {string.Join(", ", loaded)} (the initramfs does not have the blacklist, or something loads it by name).", "Rebuild the initramfs (dracut --force or update-initramfs -u) and add rd.driver.blacklist=<driver> to the kernel command line."));

        // The module's blacklist file and rd.driver.blacklist= come from one list: they must agree.
        var inFile = DriverBlacklist.Current(root).Select(KernelModules.Normalize).ToHashSet(StringComparer.Ordinal);
        var onCommandLine = config.BootCommandLine.Where(a => a.StartsWith("rd.driver.blacklist=", StringComparison.Ordinal))
            .SelectMany(a => a["rd.driver.blacklist=".Length..].Split(',', StringSplitOptions.RemoveEmptyEntries)).Select(KernelModules.Normalize).ToHashSet(StringComparer.Ordinal);
        var onlyInFile = inFile.Except(onCommandLine).Order(StringComparer.Ordinal).ToList();
        var onlyOnCommandLine = onCommandLine.Except(inFile).Order(StringComparer.Ordinal).ToList();
        checks.Add(inFile.Count == 0 && onCommandLine.Count == 0
            ? new("BlacklistAgreement", CheckStatus.NotApplicable, $"Neither {ModprobeFiles.BlacklistPath} nor rd.driver.blacklist= names a driver.")
            : onlyInFile.Count == 0 && (onlyOnCommandLine.Count == 0 || inFile.Count == 0)
                ? new("BlacklistAgreement", CheckStatus.Pass, inFile.Count == 0
                    ? $"rd.driver.blacklist= names {string.Join(", ", onCommandLine)}; the module's blacklist file names none (set by hand)."
                    : $"{ModprobeFiles.BlacklistPath} and rd.driver.blacklist= agree: {string.Join(", ", inFile.Order(StringComparer.Ordinal))}.")
                : new("BlacklistAgreement", CheckStatus.Warning, $"{ModprobeFiles.BlacklistPath} and rd.driver.blacklist= disagree:{(onlyInFile.Count > 0 ? $" only in the file: {string.Join(", ", onlyInFile)};" : "")}{(onlyOnCommandLine.Count > 0 ? $" only on the command line: {string.Join(", ", onlyOnCommandLine)};" : "")} the initramfs and the booted kernel then blacklist different drivers.".Replace(";  the", "; the", StringComparison.Ordinal), $"Set-VfioHostConfiguration -BlacklistDriver {string.Join(",", inFile.Union(onCommandLine).Order(StringComparer.Ordinal))} writes both from one list (-RemoveBlacklistDriver takes one off)."));

        // Modules the initramfs names that the kernel lacks (vfio_virqfd on kernels >= 6.2).
        var release = root.TryReadText("/proc/sys/kernel/osrelease")?.Trim();
        var kernel = new KernelModules(root, release);
        var kind = VfioHostConfigurator.Detect(root);
        var lacking = kernel.HasModuleTree ? config.InitramfsModules.Where(m => !kernel.Exists(m)).Distinct().ToList() : [];
        checks.Add(lacking.Count == 0
            ? new("InitramfsModules", CheckStatus.Pass, config.InitramfsModules.Length == 0 ? "The initramfs configuration names no vfio module." : $"Every vfio module named exists for kernel {release}.")
            : new("InitramfsModules", CheckStatus.Fail, $"The {(kind == InitramfsKind.InitramfsTools ? "initramfs-tools" : "dracut")} configuration names modules kernel {release} does not have: {string.Join(", ", lacking)} (vfio_virqfd was folded into vfio in 6.2).", "Remove them (Set-VfioHostConfiguration writes only modules that exist), then rebuild the initramfs."));

        // libvirt's ACL: stale group numbers, or the boot devices' current groups missing.
        var acl = config.LibvirtDeviceAcl;
        if (acl is null)
        {
            checks.Add(new("LibvirtDeviceAcl", CheckStatus.NotApplicable, "cgroup_device_acl is not set (or libvirt is absent)."));
        }
        else
        {
            var existing = new IommuGroupReader(root, devices).ListNumbers();
            var listed = acl.Where(e => e.StartsWith("/dev/vfio/", StringComparison.Ordinal) && int.TryParse(e.AsSpan(10), out _)).Select(e => int.Parse(e.AsSpan(10), System.Globalization.CultureInfo.InvariantCulture)).ToList();
            var wanted = config.BootBindAddresses.Select(a => PciAddress.TryParse(a, out var p) ? devices.Read(p)?.IommuGroup : null).OfType<int>().ToList();
            var stale = listed.Where(g => !existing.Contains(g)).ToList();
            var absent = wanted.Where(g => !listed.Contains(g)).ToList();
            checks.Add(stale.Count == 0 && absent.Count == 0
                ? new("LibvirtDeviceAcl", CheckStatus.Pass, "cgroup_device_acl names the current groups.")
                : new("LibvirtDeviceAcl", CheckStatus.Warning, string.Join("; ", new[]
                    {
                        stale.Count > 0 ? $"it names /dev/vfio/{string.Join(", /dev/vfio/", stale)}, which no longer exist" : null,
                        absent.Count > 0 ? $"the boot-bound devices are now in group {string.Join(", ", absent)}, which it does not name" : null,
                    }.OfType<string>()) + ".", "Set-VfioHostConfiguration -Address ... rewrites the list with the current groups; then restart libvirtd."));
        }

        // Reset methods persisted by Set-PciResetMethod -Persist that the devices do not run with.
        checks.Add(ResetMethodRules.DriftCheck(root, devices));

        // VFs created at boot (pcipassthrough-sriov): the cards are the configured ones, with the configured counts.
        checks.AddRange(SriovBootDrift.Check(root, devices));
        return checks;
    }

    /// <summary>
    /// Each device set to bind at boot, as the host is now: present, with the ids the boot script expects (it skips
    /// another card), and on vfio-pci (else the boot binding did not run, or failed for it).
    /// </summary>
    private static ReadinessCheck BootBindDevices(HostRoot root, PciDeviceReader devices, string[] addresses)
    {
        const string Name = "BootBindDevices";
        if (addresses.Length == 0)
        {
            return new(Name, CheckStatus.NotApplicable, "No device is bound at boot.");
        }

        var expected = BootBindings.ReadVfioBindIds(root);
        var problems = new List<string>();
        foreach (var address in addresses)
        {
            var device = PciAddress.TryParse(address, out var a) ? devices.Read(a) : null;
            var ids = device is null ? null : $"{device.VendorId}:{device.DeviceId}";
            if (device is null)
            {
                problems.Add($"{address} is not present");
            }
            else if (expected.TryGetValue(address, out var want) && !string.Equals(want, ids, StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"{address} is now {ids}, not the {want} it was configured for (the boot script skips it)");
            }
            else if (device.Driver != "vfio-pci")
            {
                problems.Add($"{address} ({device.DeviceName}) is on {device.Driver ?? "no driver"}, not vfio-pci");
            }
        }

        return problems.Count == 0
            ? new(Name, CheckStatus.Pass, $"Every boot-bound device is present, as configured, and on vfio-pci: {string.Join(' ', addresses)}.")
            : new(Name, CheckStatus.Fail, $"Set to bind at boot, but {string.Join("; ", problems)}.",
                "For a card moved or replaced, give the boot binding its new address (Set-VfioHostConfiguration -Address, -Replace to drop the old one); for one on its host driver, check that vfio-bind.service ran (systemctl status vfio-bind), or bind it now with Set-VfioBinding.");
    }
}
