using PciPassthrough.HostFs;
using PciPassthrough.Iommu;
using PciPassthrough.Safety;

namespace PciPassthrough.Binding;

/// <summary>
/// The refusals that keep a host on its own disk, network and console: each is a typed error naming the
/// device, and <c>-Force</c> is the only way past it.
/// </summary>
public sealed class BindingSafety
{
    private readonly Lazy<IommuSupportReport> _support;
    private readonly Lazy<IReadOnlySet<string>> _defaultRoute;
    private readonly Lazy<MountedStorage> _storage;

    public BindingSafety(HostRoot root)
    {
        _support = new(() => IommuSupportInspector.Inspect(root));
        _defaultRoute = new(() => DefaultRouteInterfaces.Find(root));
        _storage = new(() => MountedStorage.Find(root));
    }

    /// <summary>
    /// Throws the first reason the device must not leave the host, or returns when there is none. For a
    /// boot-time binding the IOMMU may still be off (the same run turns it on), so that is not checked.
    /// </summary>
    public void CheckDevice(PciDevice device, bool atBoot = false)
    {
        var active = _support.Value.Checks.Single(c => c.Name == "IommuActive");
        if (active.Status == CheckStatus.Fail && !atBoot)
        {
            throw Refuse(ErrorIds.IommuNotActive, FailureKind.InvalidOperation, device, $"no IOMMU is active ({active.Detail})", active.Remedy);
        }

        if (device.IommuGroup is null && !atBoot)
        {
            throw Refuse(ErrorIds.NoIommuGroup, FailureKind.InvalidOperation, device, "it is in no IOMMU group", "Enable the IOMMU for this device (Test-IommuSupport).");
        }

        if (device.IsBridge || (device.Class?.StartsWith("06", StringComparison.Ordinal) ?? false))
        {
            throw Refuse(ErrorIds.NotAnEndpoint, FailureKind.InvalidOperation, device, $"it is a bridge ({device.ClassName}): non-endpoint PCI devices cannot be assigned to guests", "Bind the endpoint devices behind the bridge instead.");
        }

        if (device.BootVga)
        {
            throw Refuse(ErrorIds.BootVga, FailureKind.InvalidOperation, device, "it is the boot VGA device: the host's console runs on it", "Pass a secondary GPU, or use -Force when the host needs no local console.");
        }

        var routes = device.NetworkInterfaces.Where(_defaultRoute.Value.Contains).ToList();
        if (routes.Count > 0)
        {
            throw Refuse(ErrorIds.CarriesDefaultRoute, FailureKind.InvalidOperation, device, $"its interface {string.Join(", ", routes)} carries the host's default route: binding it cuts the host off its network", "Pass another NIC or one of its VFs; -Force only from a console that does not need the network.");
        }

        var mounts = _storage.Value.MountsBeneath(device);
        if (mounts.Count > 0)
        {
            throw Refuse(ErrorIds.HoldsMountedStorage, FailureKind.InvalidOperation, device, $"mounted beneath it: {string.Join(", ", mounts)}", "Unmount (and swapoff) those filesystems first.");
        }

        if (_storage.Value.UntraceableMounts.Count > 0 && (device.Class?.StartsWith("01", StringComparison.Ordinal) ?? false))
        {
            throw Refuse(ErrorIds.HoldsMountedStorage, FailureKind.InvalidOperation, device, $"it is a storage controller and {string.Join(", ", _storage.Value.UntraceableMounts)} is mounted, whose disks cannot be traced to a controller", "Check with 'zpool status' that no pool uses disks behind it, then use -Force.");
        }

        // Unbinding a PF's driver disables SR-IOV: every VF (a host interface, a running guest's
        // device) disappears with it.
        if (device.SriovRole == SriovRole.PF && device.NumVfs > 0 && device.Driver != VfioBinder.VfioDriver)
        {
            throw Refuse(ErrorIds.HasActiveVfs, FailureKind.InvalidOperation, device, $"it is an SR-IOV physical function with {device.NumVfs} virtual functions enabled ({string.Join(", ", device.VirtualFunctions)}), which disappear when its driver is unbound", "Pass one of its VFs instead, or set sriov_numvfs to 0 first.");
        }

        if (device.InUse.Length > 0 && device.Driver != VfioBinder.VfioDriver)
        {
            throw Refuse(ErrorIds.InUse, FailureKind.ResourceBusy, device, $"its group is open by {string.Join(", ", device.InUse.Select(u => u.ToString()))}", "Stop the guest that uses it first.");
        }
    }

    private static PciPassthroughException Refuse(string id, FailureKind kind, PciDevice device, string why, string? remedy) =>
        new(id, kind, $"Refusing to change {device.PciAddress} ({device.DeviceName}): {why}.", remedy, device.PciAddress);
}
