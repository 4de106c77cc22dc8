using PciPassthrough.HostConfig;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Iommu;
using PciPassthrough.Safety;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Host;

/// <summary>
/// One host root as one cmdlet call sees it: the root, its pci.ids, its device reader, and every
/// host-wide fact read at most once, when first needed (kernel release, IOMMU report, groups, routes
/// and mounts through the safety rules, modprobe.d, module aliases, qemu.conf). Cmdlets make one per
/// call and root and hand it to the core services, so a pipeline of N devices reads the host once
/// and every service judges the same facts.
/// </summary>
public sealed class HostSession
{
    private readonly Lazy<PciIdDatabase> _names;
    private readonly Lazy<PciDeviceReader> _devices;
    private readonly Lazy<IommuGroupReader> _groups;
    private readonly Lazy<IommuSupportReport> _iommu;
    private readonly Lazy<DeviceSafetyRules> _safety;
    private readonly Lazy<ModprobeConfiguration> _modprobe;
    private readonly Lazy<ModuleAliases> _aliases;
    private readonly Lazy<QemuConfAcl> _acl;

    /// <summary>A session on <paramref name="root"/>; pci.ids from <paramref name="pciIdsPath"/>, else where the root keeps it.</summary>
    public HostSession(HostRoot root, string? pciIdsPath = null)
        : this(root, new Lazy<PciIdDatabase>(() => PciIdDatabaseLocator.Locate(root, pciIdsPath)), null)
    {
    }

    /// <summary>A session around a reader that already exists (its names and cache are reused).</summary>
    public HostSession(HostRoot root, PciDeviceReader devices)
        : this(root, new Lazy<PciIdDatabase>(() => devices.Names), devices)
    {
    }

    private HostSession(HostRoot root, Lazy<PciIdDatabase> names, PciDeviceReader? devices)
    {
        Root = root;
        _names = names;
        _devices = devices is null ? new(() => new PciDeviceReader(root, _names.Value)) : new(devices);
        _groups = new(() => new IommuGroupReader(root, Devices));
        _iommu = new(() => IommuSupportInspector.Inspect(root));
        _safety = new(() => new DeviceSafetyRules(root, () => Iommu));
        _modprobe = new(() => ModprobeConfiguration.Read(root));
        _aliases = new(() => ModuleAliases.Read(root, KernelRelease));
        _acl = new(() => QemuConfAcl.Read(root));
    }

    public HostRoot Root { get; }

    /// <summary>The pci.ids in use; <see cref="PciIdDatabase.SourcePath"/> is null when none was found.</summary>
    public PciIdDatabase Names => _names.Value;

    public PciDeviceReader Devices => _devices.Value;

    public IommuGroupReader Groups => _groups.Value;

    /// <summary>What Test-IommuSupport reports; read once.</summary>
    public IommuSupportReport Iommu => _iommu.Value;

    /// <summary>The running kernel's release (from /proc), or null under a root without it.</summary>
    public string? KernelRelease => Iommu.KernelRelease;

    /// <summary>The one rule set every changing cmdlet and the readiness audit judge devices by.</summary>
    public DeviceSafetyRules Safety => _safety.Value;

    public ModprobeConfiguration Modprobe => _modprobe.Value;

    public ModuleAliases Aliases => _aliases.Value;

    public QemuConfAcl LibvirtAcl => _acl.Value;
}
