namespace PciPassthrough.HostConfig;

/// <summary>Which initramfs generator to write for.</summary>
public enum InitramfsKind
{
    Auto,
    Dracut,
    InitramfsTools,
    None,
}

/// <summary>What Set-VfioHostConfiguration is asked to make so. Every part is optional.</summary>
public sealed record HostConfigurationRequest
{
    /// <summary>Devices to bind to vfio-pci at boot (vfio-bind.service with driver_override): added to those bound at boot already.</summary>
    public IReadOnlyList<string> Addresses { get; init; } = [];

    /// <summary>Devices to take out of the boot binding (with their libvirt ACL entry), the others untouched.</summary>
    public IReadOnlyList<string> RemoveAddresses { get; init; } = [];

    /// <summary>The addresses replace the boot binding's whole device list instead of joining it.</summary>
    public bool Replace { get; init; }

    /// <summary>Each address's IOMMU group peers are bound at boot with it (else leaving one out is refused).</summary>
    public bool IncludeGroup { get; init; }

    /// <summary>Drivers to add to the module's blacklist (earlier ones stay).</summary>
    public IReadOnlyList<string> BlacklistDrivers { get; init; } = [];

    /// <summary>Drivers to take off the module's blacklist (modprobe.d and the kernel command line).</summary>
    public IReadOnlyList<string> RemoveBlacklistDrivers { get; init; } = [];

    /// <summary>Drivers to order after vfio-pci (softdep DRIVER pre: vfio-pci).</summary>
    public IReadOnlyList<string> SoftdepDrivers { get; init; } = [];

    /// <summary>vendor:device ids for 'options vfio-pci ids=' (captures every identical card).</summary>
    public IReadOnlyList<string> VfioPciIds { get; init; } = [];

    /// <summary>"intel", "amd", or null to choose from the firmware table and CPU.</summary>
    public string? Iommu { get; init; }

    public bool IommuPassthrough { get; init; }

    /// <summary>False leaves the boot loader's command line alone.</summary>
    public bool KernelCommandLine { get; init; } = true;

    /// <summary>Which file holds the kernel command line; detected from the host by default.</summary>
    public Boot.BootLoaderKind BootLoader { get; init; } = Boot.BootLoaderKind.Auto;

    public InitramfsKind Initramfs { get; init; } = InitramfsKind.Auto;

    /// <summary>The kernel the initramfs is for; the running one by default.</summary>
    public string? KernelRelease { get; init; }

    public string UdevOwner { get; init; } = "oneadmin";

    public string UdevGroup { get; init; } = "kvm";

    public string UdevMode { get; init; } = "0660";

    /// <summary>Past the safety refusals for boot-bound devices.</summary>
    public bool Force { get; init; }

    /// <summary>PFs whose VFs the boot creates: address to a count ("4") or "Max".</summary>
    public IReadOnlyDictionary<string, string> VirtualFunctionCounts { get; init; } = new Dictionary<string, string>();

    /// <summary>Persist every PF that has VFs now, with its count, autoprobe and VF attributes as they are.</summary>
    public bool PersistVirtualFunctions { get; init; }

    /// <summary>PFs to take out of the boot-time SR-IOV configuration.</summary>
    public IReadOnlyList<string> RemoveVirtualFunctionCounts { get; init; } = [];

    /// <summary>sriov_drivers_autoprobe for the PFs of <see cref="VirtualFunctionCounts"/>; false (no host VF driver) when null.</summary>
    public bool? VirtualFunctionDriversAutoprobe { get; init; }

    /// <summary>The ip that reads the VFs' admin attributes to persist; null persists none.</summary>
    public Sriov.IpCommand? Ip { get; init; }
}
