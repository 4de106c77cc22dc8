using PciPassthrough.HostConfig.Boot;
using PciPassthrough.HostFs;
using PciPassthrough.Iommu;

namespace PciPassthrough.HostConfig;

/// <summary>What a host is configured to do at boot for VFIO, parsed from its files.</summary>
public sealed class VfioHostConfiguration
{
    /// <summary>GRUB_CMDLINE_LINUX of /etc/default/grub (empty when the host boots another way).</summary>
    public string[] GrubCommandLine { get; private init; } = [];

    /// <summary>The boot loader whose command line the next boot uses.</summary>
    public BootLoaderKind BootLoader { get; private init; }

    /// <summary>The file that holds that command line.</summary>
    public string BootCommandLinePath { get; private init; } = HostConfig.GrubCommandLine.Path;

    /// <summary>The arguments that boot loader passes (root= and the rest included where the file has them).</summary>
    public string[] BootCommandLine { get; private init; } = [];

    public string[] LiveCommandLine { get; private init; } = [];

    /// <summary>"dracut", "initramfs-tools", or null when neither is installed.</summary>
    public string? Initramfs { get; private init; }

    /// <summary>The modules the initramfs configuration names for vfio.</summary>
    public string[] InitramfsModules { get; private init; } = [];

    public string[] BlacklistedDrivers { get; private init; } = [];

    public string[] VfioPciIds { get; private init; } = [];

    /// <summary>The addresses vfio-bind.service binds at boot (DEVICES of /etc/sysconfig/vfio-bind).</summary>
    public string[] BootBindAddresses { get; private init; } = [];

    public bool BootBindUnitPresent { get; private init; }

    /// <summary>The PFs whose VFs pcipassthrough-sriov.service creates at boot (/etc/sysconfig/pcipassthrough-sriov).</summary>
    public SriovBootEntry[] VirtualFunctionCounts { get; private init; } = [];

    public bool SriovUnitPresent { get; private init; }

    /// <summary>The udev rule setting /dev/vfio ownership, or null.</summary>
    public string? UdevRule { get; private init; }

    /// <summary>libvirt's cgroup_device_acl entries; null when unset or libvirt is absent.</summary>
    public string[]? LibvirtDeviceAcl { get; private init; }

    public string Root { get; private init; } = "/";

    public static VfioHostConfiguration Read(HostRoot root)
    {
        var modprobe = ModprobeConfiguration.Read(root);
        var kind = VfioHostConfigurator.Detect(root);
        var grub = ArgumentsOrNone(root, BootLoaderKind.Grub);
        var loader = Boot.BootCommandLine.Detect(root);

        return new VfioHostConfiguration
        {
            GrubCommandLine = grub,
            BootLoader = loader,
            BootCommandLinePath = Boot.BootCommandLine.PathOf(loader),
            BootCommandLine = loader == BootLoaderKind.Grub ? grub : ArgumentsOrNone(root, loader),
            LiveCommandLine = IommuSupportInspector.ParseCommandLine(root.TryReadText("/proc/cmdline")).Select(kv => kv.Value.Length == 0 ? kv.Key : $"{kv.Key}={kv.Value}").ToArray(),
            Initramfs = kind switch { InitramfsKind.Dracut => "dracut", InitramfsKind.InitramfsTools => "initramfs-tools", _ => null },
            InitramfsModules = ConfiguredInitramfsModules(root, kind).ToArray(),
            BlacklistedDrivers = modprobe.Blacklisted.Order(StringComparer.Ordinal).ToArray(),
            VfioPciIds = modprobe.VfioPciIds.ToArray(),
            BootBindAddresses = BootBindings.ReadVfioBindDevices(root).ToArray(),
            BootBindUnitPresent = root.Exists(VfioBindService.UnitPath),
            VirtualFunctionCounts = SriovEntriesOrNone(root),
            SriovUnitPresent = root.Exists(SriovBootService.UnitPath),
            UdevRule = UdevRules.VfioOwnershipRule(root)?.Rule,
            LibvirtDeviceAcl = QemuConfAcl.Read(root).Entries?.ToArray(),
            Root = root.Path,
        };
    }

    // A malformed file reads as no PF here; Test-VfioHostConfiguration reports it.
    internal static SriovBootEntry[] SriovEntriesOrNone(HostRoot root)
    {
        try
        {
            return SriovBootConfiguration.Read(root).ToArray();
        }
        catch (PciPassthroughException)
        {
            return [];
        }
    }

    // A malformed file reads as no arguments here; Test-VfioHostConfiguration reports it.
    private static string[] ArgumentsOrNone(HostRoot root, BootLoaderKind loader)
    {
        try
        {
            return Boot.BootCommandLine.Arguments(loader, root.TryReadText(Boot.BootCommandLine.PathOf(loader))).ToArray();
        }
        catch (PciPassthroughException)
        {
            return [];
        }
    }

    /// <summary>vfio-related modules named in dracut's add_drivers lines or initramfs-tools' modules file.</summary>
    public static IEnumerable<string> ConfiguredInitramfsModules(HostRoot root, InitramfsKind kind)
    {
        if (kind == InitramfsKind.InitramfsTools)
        {
            return (root.TryReadText(ModprobeFiles.InitramfsToolsPath) ?? "").Split('\n')
                .Select(l => l.Split('#')[0].Trim().Split(' ')[0]).Where(m => m.StartsWith("vfio", StringComparison.Ordinal));
        }

        var modules = new List<string>();
        foreach (var file in root.ListNames("/etc/dracut.conf.d").Where(f => f.EndsWith(".conf", StringComparison.Ordinal)))
        {
            foreach (var line in (root.TryReadText("/etc/dracut.conf.d/" + file) ?? "").Split('\n'))
            {
                var t = line.Split('#')[0].Trim();
                if (t.StartsWith("add_drivers", StringComparison.Ordinal) || t.StartsWith("force_drivers", StringComparison.Ordinal))
                {
                    var value = t[(t.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim('"', ' ');
                    modules.AddRange(value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(m => m.StartsWith("vfio", StringComparison.Ordinal)));
                }
            }
        }

        return modules;
    }
}
