using PciPassthrough.HostFs;
using PciPassthrough.Iommu;

namespace PciPassthrough.Safety;

/// <summary>What a safety verdict is for: the device is changed now, bound at the next boot, or only assessed.</summary>
public enum SafetyPurpose
{
    /// <summary>Set-VfioBinding: the device leaves its host driver now.</summary>
    Bind,

    /// <summary>Set-VfioHostConfiguration: the device goes to vfio-pci at the next boot (the IOMMU may still be off).</summary>
    BootBind,

    /// <summary>Test-PciPassthroughReadiness: nothing changes.</summary>
    Assess,
}

/// <summary>
/// One rule's verdict on one device. A Fail carries the error ID a changing cmdlet refuses with;
/// Unknown means an input the rule needs is missing (no routes or mounts under the root): never a Pass.
/// </summary>
public sealed record SafetyFinding(string Name, CheckStatus Status, string Detail, string? Remedy, string ErrorId, FailureKind Kind)
{
    public ReadinessCheck ToCheck() => new(Name, Status, Detail, Remedy);

    /// <summary>The refusal a changing cmdlet raises for this Fail.</summary>
    public PciPassthroughException ToRefusal(PciDevice device) =>
        ErrorCatalog.SafetyRefusal(device, ErrorId, Kind, Detail, Remedy);
}

/// <summary>
/// The one rule set that keeps a host on its own disk, network and console. The binder refuses on its
/// Fails (each with its error ID; -Force passes them), the boot configuration checks the devices it
/// would capture with it, and the readiness audit shows its findings: they cannot judge a device
/// differently. Host-wide inputs are read once per instance.
/// </summary>
public sealed class DeviceSafetyRules
{
    private readonly Lazy<IommuSupportReport> _support;
    private readonly Lazy<IReadOnlySet<string>?> _defaultRoute;
    private readonly Lazy<MountedStorage?> _storage;
    private readonly HostRoot _root;

    public DeviceSafetyRules(HostRoot root)
        : this(root, () => IommuSupportInspector.Inspect(root))
    {
    }

    /// <summary>Rules that take the IOMMU report from a session that already read it.</summary>
    public DeviceSafetyRules(HostRoot root, Func<IommuSupportReport> support)
    {
        _root = root;
        _support = new(support);
        _defaultRoute = new(() => DefaultRouteInterfaces.IsKnown(root) ? DefaultRouteInterfaces.Find(root) : null);
        _storage = new(() => MountedStorage.IsKnown(root) ? MountedStorage.Find(root) : null);
    }

    /// <summary>Every rule's verdict, in a fixed order.</summary>
    public IReadOnlyList<SafetyFinding> Evaluate(PciDevice device, SafetyPurpose purpose) =>
    [
        IommuActive(purpose),
        InIommuGroup(device, purpose, _root),
        Endpoint(device),
        NotBootVga(device),
        NotDefaultRouteInterface(device),
        NoMountedStorage(device),
        NoActiveVirtualFunctions(device),
        NotHeldByGuest(device, purpose),
    ];

    /// <summary>The first Fail, or null: what a changing cmdlet refuses the device for.</summary>
    public SafetyFinding? FirstFailure(PciDevice device, SafetyPurpose purpose) =>
        Evaluate(device, purpose).FirstOrDefault(f => f.Status == CheckStatus.Fail);

    /// <summary>
    /// Why the host must keep the device whatever else happens (boot console, network, disks), or null.
    /// Used for the peers of a group: those go to the guest with the device.
    /// </summary>
    public SafetyFinding? HostCritical(PciDevice device) =>
        new[] { NotBootVga(device), NotDefaultRouteInterface(device), NoMountedStorage(device) }.FirstOrDefault(f => f.Status == CheckStatus.Fail);

    private SafetyFinding IommuActive(SafetyPurpose purpose)
    {
        const string Name = "IommuActive";
        if (purpose == SafetyPurpose.BootBind)
        {
            return new(Name, CheckStatus.NotApplicable, "Bound at the next boot: the IOMMU settings of the same run apply then.", null, ErrorIds.IommuNotActive, FailureKind.InvalidOperation);
        }

        var active = _support.Value.Checks.Single(c => c.Name == "IommuActive");
        return active.Status == CheckStatus.Fail
            ? new(Name, CheckStatus.Fail, $"No IOMMU is active ({active.Detail})", active.Remedy, ErrorIds.IommuNotActive, FailureKind.InvalidOperation)
            : new(Name, CheckStatus.Pass, "An IOMMU is active.", null, ErrorIds.IommuNotActive, FailureKind.InvalidOperation);
    }

    private static SafetyFinding InIommuGroup(PciDevice device, SafetyPurpose purpose, HostRoot root)
    {
        const string Name = "IommuGroup";
        // A link to a group the tree does not hold (out of a captured tree, a damaged capture) leaves the
        // group's members unknown: never "alone" (D23).
        if (device.IommuGroup is int missing && purpose != SafetyPurpose.BootBind && !Directory.Exists(root.Resolve($"/sys/kernel/iommu_groups/{missing}/devices")))
        {
            return new(Name, CheckStatus.Fail, $"Its iommu_group link names group {missing}, which /sys/kernel/iommu_groups does not hold, so the devices it shares a group with are unknown", "Check the device's iommu_group link (a captured tree must hold sys/kernel/iommu_groups); nothing can be judged or bound until the group is there.", ErrorIds.IommuGroupNotFound, FailureKind.InvalidOperation);
        }

        if (device.IommuGroup is int g)
        {
            return new(Name, CheckStatus.Pass, $"In IOMMU group {g}.", null, ErrorIds.NoIommuGroup, FailureKind.InvalidOperation);
        }

        return purpose == SafetyPurpose.BootBind
            ? new(Name, CheckStatus.NotApplicable, "In no IOMMU group yet: groups appear when the IOMMU is on at boot.", null, ErrorIds.NoIommuGroup, FailureKind.InvalidOperation)
            : new(Name, CheckStatus.Fail, "It is in no IOMMU group", "Enable the IOMMU (Test-IommuSupport says how); a device outside every group cannot be assigned.", ErrorIds.NoIommuGroup, FailureKind.InvalidOperation);
    }

    private static SafetyFinding Endpoint(PciDevice device)
    {
        const string Name = "Endpoint";
        if (device.IsBridge || (device.Class?.StartsWith("06", StringComparison.Ordinal) ?? false))
        {
            return new(Name, CheckStatus.Fail, $"It is a bridge ({device.ClassName}): non-endpoint PCI devices cannot be assigned to guests", "Pass the endpoint devices behind the bridge instead.", ErrorIds.NotAnEndpoint, FailureKind.InvalidOperation);
        }

        return device.HeaderType is null
            ? new(Name, CheckStatus.Unknown, "The configuration header cannot be read, so the device may be a bridge.", "Run as root so the config space is readable, and check lspci -v.", ErrorIds.NotAnEndpoint, FailureKind.InvalidOperation)
            : new(Name, CheckStatus.Pass, "An endpoint (header type 0).", null, ErrorIds.NotAnEndpoint, FailureKind.InvalidOperation);
    }

    private static SafetyFinding NotBootVga(PciDevice device)
    {
        const string Name = "NotBootVga";
        if (device.BootVga)
        {
            return new(Name, CheckStatus.Fail, "It is the boot VGA device: the host's console runs on it, and its framebuffer holds the card's memory ('BAR 0: can't reserve')", "Pass a secondary GPU, or switch the console to another card first (video=efifb:off); -Force when the host needs no local console.", ErrorIds.BootVga, FailureKind.InvalidOperation);
        }

        return device.Class?.StartsWith("03", StringComparison.Ordinal) == true
            ? new(Name, CheckStatus.Pass, "Not the boot VGA device.", null, ErrorIds.BootVga, FailureKind.InvalidOperation)
            : new(Name, CheckStatus.NotApplicable, "Not a display device.", null, ErrorIds.BootVga, FailureKind.InvalidOperation);
    }

    private SafetyFinding NotDefaultRouteInterface(PciDevice device)
    {
        const string Name = "NotDefaultRouteInterface";
        if (device.NetworkInterfaces.Length == 0)
        {
            return new(Name, CheckStatus.NotApplicable, "No network interface.", null, ErrorIds.CarriesDefaultRoute, FailureKind.InvalidOperation);
        }

        if (_defaultRoute.Value is not { } routes)
        {
            return new(Name, CheckStatus.Unknown, $"The routing table (/proc/net/route, /proc/net/ipv6_route) cannot be read, so whether {string.Join(", ", device.NetworkInterfaces)} carries the default route is unknown.", "Read a live host, or capture its /proc/net with the tree.", ErrorIds.CarriesDefaultRoute, FailureKind.InvalidOperation);
        }

        var carrying = device.NetworkInterfaces.Where(routes.Contains).ToList();
        return carrying.Count > 0
            ? new(Name, CheckStatus.Fail, $"Its interface {string.Join(", ", carrying)} carries the host's default route: detaching it cuts the host off its network", "Pass another NIC or one of its VFs, or move the host's route first; -Force only from a console that does not need the network.", ErrorIds.CarriesDefaultRoute, FailureKind.InvalidOperation)
            : new(Name, CheckStatus.Pass, $"Its interfaces ({string.Join(", ", device.NetworkInterfaces)}) do not carry the default route.", null, ErrorIds.CarriesDefaultRoute, FailureKind.InvalidOperation);
    }

    private SafetyFinding NoMountedStorage(PciDevice device)
    {
        const string Name = "NoMountedStorage";
        if (_storage.Value is not { } storage)
        {
            return new(Name, CheckStatus.Unknown, "The mount table (/proc/mounts, /proc/self/mountinfo) cannot be read, so whether storage is mounted beneath it is unknown.", "Read a live host, or capture its /proc/mounts with the tree.", ErrorIds.HoldsMountedStorage, FailureKind.InvalidOperation);
        }

        var mounts = storage.MountsBeneath(device);
        if (mounts.Count > 0)
        {
            return new(Name, CheckStatus.Fail, $"Mounted beneath it: {string.Join(", ", mounts)}", "Unmount (and swapoff) those filesystems first, or pass another controller.", ErrorIds.HoldsMountedStorage, FailureKind.InvalidOperation);
        }

        return storage.UntraceableMounts.Count > 0 && (device.Class?.StartsWith("01", StringComparison.Ordinal) ?? false)
            ? new(Name, CheckStatus.Fail, $"It is a storage controller and {string.Join(", ", storage.UntraceableMounts)} is mounted, whose disks cannot be traced to a controller", "Check with 'zpool status' that no pool uses disks behind it, then use -Force.", ErrorIds.HoldsMountedStorage, FailureKind.InvalidOperation)
            : new(Name, CheckStatus.Pass, "No mounted filesystem or swap beneath it.", null, ErrorIds.HoldsMountedStorage, FailureKind.InvalidOperation);
    }

    // Unbinding a PF's driver disables SR-IOV: every VF (a host interface, a running guest's device)
    // disappears with it.
    private static SafetyFinding NoActiveVirtualFunctions(PciDevice device)
    {
        const string Name = "NoActiveVirtualFunctions";
        if (device.SriovRole != SriovRole.PF)
        {
            return new(Name, CheckStatus.NotApplicable, "Not an SR-IOV physical function.", null, ErrorIds.HasActiveVfs, FailureKind.InvalidOperation);
        }

        return device.NumVfs > 0 && device.Driver != "vfio-pci"
            ? new(Name, CheckStatus.Fail, $"It is an SR-IOV physical function with {device.NumVfs} virtual functions enabled ({string.Join(", ", device.VirtualFunctions)}), which disappear when its driver is unbound", "Pass one of its VFs instead, or set sriov_numvfs to 0 first.", ErrorIds.HasActiveVfs, FailureKind.InvalidOperation)
            : new(Name, CheckStatus.Pass, $"A physical function with no VFs enabled (up to {device.TotalVfs}).", null, ErrorIds.HasActiveVfs, FailureKind.InvalidOperation);
    }

    private static SafetyFinding NotHeldByGuest(PciDevice device, SafetyPurpose purpose)
    {
        const string Name = "NotHeldByGuest";
        if (device.InUse.Length == 0)
        {
            return device.Usage == DeviceUsage.Unknown
                ? new(Name, CheckStatus.Unknown, VfioUser.UnknownDetail, VfioUser.UnknownRemedy, ErrorIds.InUse, FailureKind.ResourceBusy)
                : new(Name, CheckStatus.Pass, "No process holds it open.", null, ErrorIds.InUse, FailureKind.ResourceBusy);
        }

        // On vfio-pci and held: a guest is using it as intended; only taking it away would hurt.
        var held = $"It is held by {VfioUser.Describe(device.InUse)}";
        return device.Driver == "vfio-pci" && purpose != SafetyPurpose.BootBind
            ? new(Name, CheckStatus.Pass, held + ", on vfio-pci as a guest needs it.", null, ErrorIds.InUse, FailureKind.ResourceBusy)
            : new(Name, CheckStatus.Fail, held, VfioUser.StopAdvice(device.InUse), ErrorIds.InUse, FailureKind.ResourceBusy);
    }
}
