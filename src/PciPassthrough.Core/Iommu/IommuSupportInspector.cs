using System.Globalization;
using PciPassthrough.HostFs;

namespace PciPassthrough.Iommu;

/// <summary>
/// The guide's first requirement, checked from the files a host exposes under its root: CPU, firmware
/// table, kernel release and command line, an active IOMMU, interrupt remapping, the vfio modules and
/// /dev/vfio/vfio. Missing or unreadable files make a check Warning or Fail with the reason; nothing throws.
/// </summary>
internal static class IommuSupportInspector
{
    public const string VfioModulesCheck = "VfioModules";

    /// <summary>The modules VFIO passthrough needs; vfio_pci_core exists only on kernels >= 5.16.</summary>
    private static readonly string[] RequiredModules = ["vfio", "vfio_iommu_type1", "vfio_pci"];

    public static IommuSupportReport Inspect(HostRoot root)
    {
        var cpuinfo = root.TryReadText("/proc/cpuinfo");
        var cpuVendor = CpuField(cpuinfo, "vendor_id");
        var hasDmar = root.Exists("/sys/firmware/acpi/tables/DMAR");
        var hasIvrs = root.Exists("/sys/firmware/acpi/tables/IVRS");
        var intel = hasDmar || (!hasIvrs && cpuVendor == "GenuineIntel");
        var iommuType = hasDmar ? "Intel VT-d" : hasIvrs ? "AMD-Vi" : null;
        var release = root.TryReadText("/proc/sys/kernel/osrelease")?.Trim();
        var cmdline = root.TryReadText("/proc/cmdline");
        var units = root.ListNames("/sys/class/iommu");
        var groups = root.ListNames("/sys/kernel/iommu_groups");
        var active = units.Count > 0 && groups.Count > 0;
        var modules = new KernelModules(root, release);

        var checks = new List<ReadinessCheck>
        {
            CheckCpu(cpuinfo, cpuVendor),
            CheckFirmware(root, hasDmar, hasIvrs, intel),
            CheckKernelRelease(release),
            CheckCommandLine(cmdline, intel, active),
            CheckActive(units, groups, intel),
            CheckInterruptRemapping(root),
            CheckModules(modules),
            CheckVfioDevice(root, modules),
        };
        if (Topology.AcsOverrideParameters.Check(root) is { } acsOverride)
        {
            checks.Add(acsOverride); // groups formed under it are no proof of isolation
        }

        return new IommuSupportReport(checks, cpuVendor is "GenuineIntel" or "AuthenticAMD" ? cpuVendor : null, iommuType, release, root.Path);
    }

    /// <summary>Kernel command-line arguments as name to value (the last one wins, as the kernel reads them).</summary>
    public static Dictionary<string, string> ParseCommandLine(string? cmdline)
    {
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var token in (cmdline ?? "").Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = token.IndexOf('=', StringComparison.Ordinal);
            args[eq < 0 ? token : token[..eq]] = eq < 0 ? "" : token[(eq + 1)..].Trim('"');
        }

        return args;
    }

    private static ReadinessCheck CheckCpu(string? cpuinfo, string? vendor)
    {
        const string name = "CpuVirtualization";
        if (cpuinfo is null)
        {
            return new(name, CheckStatus.Warning, "/proc/cpuinfo cannot be read.", "Run on the host itself, or give -Root a tree that holds proc/cpuinfo.");
        }

        var flags = (CpuField(cpuinfo, "flags") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var (flag, feature) = vendor == "AuthenticAMD" ? ("svm", "AMD-V (SVM)") : ("vmx", "Intel VT-x");
        if (vendor is not ("GenuineIntel" or "AuthenticAMD"))
        {
            return new(name, CheckStatus.Warning, $"CPU vendor '{vendor ?? "unknown"}' is neither Intel nor AMD; this module checks x86 hosts.", "Check the platform's own IOMMU documentation (for example the Arm SMMU).");
        }

        return flags.Contains(flag)
            ? new(name, CheckStatus.Pass, $"{vendor} with the '{flag}' flag ({feature}).")
            : new(name, CheckStatus.Fail, $"{vendor} without the '{flag}' flag: {feature} is off or missing.", $"Enable {feature} in the firmware setup (BIOS/UEFI); KVM guests need it.");
    }

    private static ReadinessCheck CheckFirmware(HostRoot root, bool hasDmar, bool hasIvrs, bool intel)
    {
        const string name = "FirmwareIommuTable";
        if (hasDmar || hasIvrs)
        {
            return new(name, CheckStatus.Pass, hasDmar ? "ACPI DMAR table present (Intel VT-d)." : "ACPI IVRS table present (AMD-Vi).");
        }

        if (!Directory.Exists(root.Resolve("/sys/firmware/acpi/tables")))
        {
            return new(name, CheckStatus.Warning, "No ACPI tables are visible under /sys/firmware/acpi/tables.", "Run on the host itself (the tables are not visible in most containers), or capture sys/firmware/acpi/tables with the tree.");
        }

        return new(name, CheckStatus.Fail, $"Neither a DMAR nor an IVRS ACPI table: the firmware does not announce an IOMMU.", intel
            ? "Enable Intel VT-d (often 'VT for Directed I/O') in the firmware setup."
            : "Enable AMD-Vi (often 'IOMMU' or 'SVM/IOMMU') in the firmware setup.");
    }

    private static ReadinessCheck CheckKernelRelease(string? release)
    {
        const string name = "KernelVersion";
        if (release is null)
        {
            return new(name, CheckStatus.Warning, "/proc/sys/kernel/osrelease cannot be read.", "Run on the host itself, or capture proc/sys/kernel/osrelease.");
        }

        var parts = release.Split('.', '-');
        if (parts.Length < 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor))
        {
            return new(name, CheckStatus.Warning, $"Kernel release '{release}' is not a version number.", "Check that the kernel is 3.12 or later (uname -r).");
        }

        return major > 3 || (major == 3 && minor >= 12)
            ? new(name, CheckStatus.Pass, $"Kernel {release} (3.12 or later).")
            : new(name, CheckStatus.Fail, $"Kernel {release} is older than 3.12, which VFIO passthrough needs.", "Upgrade the kernel to 3.12 or later (any supported distribution kernel is).");
    }

    private static ReadinessCheck CheckCommandLine(string? cmdline, bool intel, bool active)
    {
        const string name = "KernelCommandLine";
        if (cmdline is null)
        {
            return new(name, CheckStatus.Warning, "/proc/cmdline cannot be read.", "Run on the host itself, or capture proc/cmdline.");
        }

        var args = ParseCommandLine(cmdline);
        var key = intel ? "intel_iommu" : "amd_iommu";
        var wanted = $"{key}=on";
        var pt = args.TryGetValue("iommu", out var iommu) && iommu == "pt" ? " iommu=pt is set (host devices bypass translation)." : " iommu=pt is not set (optional; it spares host devices the translation cost).";
        var remedy = intel
            ? $"Add {wanted} to GRUB_CMDLINE_LINUX in /etc/default/grub, regenerate the boot configuration (update-grub or grub2-mkconfig) and reboot."
            : "Enable AMD-Vi in the firmware; the kernel turns the AMD IOMMU on by itself unless amd_iommu=off or iommu=off is on the command line.";
        if (iommu == "off" || (args.TryGetValue(key, out var value) && value.Split(',').Contains("off")))
        {
            return new(name, CheckStatus.Fail, $"The IOMMU is switched off on the kernel command line ({(iommu == "off" ? "iommu=off" : key + "=off")}).", intel ? remedy.Replace("Add", "Remove the 'off' setting and add", StringComparison.Ordinal) : "Remove amd_iommu=off and iommu=off from GRUB_CMDLINE_LINUX, regenerate the boot configuration and reboot.");
        }

        if (args.TryGetValue(key, out value) && value.Split(',').Contains("on"))
        {
            return new(name, CheckStatus.Pass, $"{wanted} is set.{pt}");
        }

        return active
            ? new(name, CheckStatus.Pass, $"{wanted} is not on the command line, but the IOMMU is active (enabled by the kernel's default).{pt}")
            : new(name, CheckStatus.Fail, intel ? $"{wanted} is not on the kernel command line and no IOMMU is active.{pt}" : $"No AMD IOMMU is active.{pt}", remedy);
    }

    private static ReadinessCheck CheckActive(IReadOnlyList<string> units, IReadOnlyList<string> groups, bool intel)
    {
        const string name = "IommuActive";
        if (units.Count > 0 && groups.Count > 0)
        {
            return new(name, CheckStatus.Pass, $"IOMMU units {string.Join(", ", units)}; {groups.Count} IOMMU groups.");
        }

        return new(name, CheckStatus.Fail, units.Count == 0 ? "No IOMMU unit under /sys/class/iommu: the kernel did not enable an IOMMU." : "IOMMU units exist but /sys/kernel/iommu_groups is empty.", intel
            ? "Enable VT-d in the firmware and add intel_iommu=on to the kernel command line, then reboot."
            : "Enable AMD-Vi in the firmware (amd_iommu must not be off), then reboot.");
    }

    private static ReadinessCheck CheckInterruptRemapping(HostRoot root)
    {
        const string name = "InterruptRemapping";
        var interrupts = root.TryReadText("/proc/interrupts");
        if (interrupts is not null && interrupts.Contains("IR-", StringComparison.Ordinal))
        {
            return new(name, CheckStatus.Pass, "Interrupts are remapped (IR- entries in /proc/interrupts).");
        }

        var unsafeAllowed = root.TryReadText("/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts")?.Trim();
        if (unsafeAllowed is "Y" or "1")
        {
            return new(name, CheckStatus.Warning, "No interrupt remapping, but vfio_iommu_type1 allow_unsafe_interrupts=1 lets VFIO run without it (a guest could inject interrupts).", "Enable interrupt remapping (x2APIC / 'Interrupt Remapping') in the firmware and drop allow_unsafe_interrupts.");
        }

        if (interrupts is null)
        {
            return new(name, CheckStatus.Warning, "/proc/interrupts cannot be read.", "Run on the host itself, or capture proc/interrupts.");
        }

        return new(name, CheckStatus.Fail, "No IR- entries in /proc/interrupts: interrupt remapping is off, and VFIO refuses to assign devices without it.", "Enable interrupt remapping (x2APIC) in the firmware; as an unsafe last resort, 'options vfio_iommu_type1 allow_unsafe_interrupts=1' in /etc/modprobe.d.");
    }

    private static ReadinessCheck CheckModules(KernelModules modules)
    {
        var missing = RequiredModules.Where(m => !modules.Exists(m)).ToList();
        var notLoaded = RequiredModules.Where(m => modules.Exists(m) && !modules.IsLoaded(m) && !modules.IsBuiltin(m)).ToList();
        if (missing.Count > 0)
        {
            var where = modules.HasModuleTree ? $"lib/modules/{modules.Release}" : $"a lib/modules/{modules.Release ?? "<release>"} tree (it is missing)";
            return new(VfioModulesCheck, CheckStatus.Fail, $"Not loaded, not built in and not in {where}: {string.Join(", ", missing)}.", "Install the kernel's full module package (for example linux-modules-extra) or a kernel built with CONFIG_VFIO and CONFIG_VFIO_PCI.");
        }

        return notLoaded.Count == 0
            ? new(VfioModulesCheck, CheckStatus.Pass, "vfio, vfio_iommu_type1 and vfio_pci are loaded or built in.")
            : new(VfioModulesCheck, CheckStatus.Pass, $"Available for kernel {modules.Release}, not loaded yet: {string.Join(", ", notLoaded)} (loaded on the first bind).");
    }

    private static ReadinessCheck CheckVfioDevice(HostRoot root, KernelModules modules)
    {
        const string name = "VfioContainer";
        if (root.Exists("/dev/vfio/vfio"))
        {
            return new(name, CheckStatus.Pass, "/dev/vfio/vfio exists.");
        }

        return RequiredModules.All(modules.Exists)
            ? new(name, CheckStatus.Warning, "/dev/vfio/vfio does not exist yet; it appears when the vfio module loads.", "modprobe vfio-pci (Set-VfioBinding also loads it when it binds a device).")
            : new(name, CheckStatus.Fail, "/dev/vfio/vfio does not exist and the vfio modules are missing.", "Install a kernel with the vfio modules, then modprobe vfio-pci.");
    }

    // The first processor block's "name : value" line.
    private static string? CpuField(string? cpuinfo, string field)
    {
        foreach (var line in (cpuinfo ?? "").Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim() == field)
            {
                return line[(colon + 1)..].Trim();
            }
        }

        return null;
    }
}
