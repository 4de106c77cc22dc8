using PciPassthrough.Host;
using PciPassthrough.Iommu;

namespace PciPassthrough.HostConfig;

/// <summary>
/// Which devices vfio-bind.service binds after a Set-VfioHostConfiguration call. The requested devices join those bound
/// at boot already (driverctl's model: adding a card never drops another), or replace them with
/// <see cref="HostConfigurationRequest.Replace"/>; each new device brings its whole IOMMU group, as a binding does.
/// </summary>
internal static class BootBindingPlanner
{
    /// <summary>The plan: the devices new to the boot binding, every entry of the new list (address and the ids it
    /// must have), the listed devices present on the host now, the addresses that leave the list unasked (-Replace),
    /// and the IOMMU groups no listed device is in any more (their libvirt ACL entries go).</summary>
    internal sealed record BootBindingPlan(
        IReadOnlyList<PciDevice> Added,
        IReadOnlyList<(string Address, string Ids)> Entries,
        IReadOnlyList<PciDevice> Present,
        IReadOnlyList<string> Leaving,
        IReadOnlyList<int> DroppedGroups);

    /// <param name="check">Refuses a device the boot must not bind (the safety rules); called for each device this call
    /// adds before its group is judged, so that a device's own refusal comes first, as in a binding.</param>
    /// <returns>Null when the call leaves the boot binding alone: no address to add, and none listed to take out (so a
    /// host never configured gets no boot-binding files).</returns>
    public static BootBindingPlan? Plan(HostSession host, HostConfigurationRequest request, Action<PciDevice> check)
    {
        var (root, devices) = (host.Root, host.Devices);
        var before = BootBindings.ReadVfioBindDevices(root).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var removing = new HashSet<string>(request.RemoveAddresses, StringComparer.OrdinalIgnoreCase);
        if (request.Addresses.Count == 0 && !before.Any(removing.Contains))
        {
            return null;
        }

        var recordedIds = BootBindings.ReadVfioBindIds(root);
        var kept = (request.Replace ? [] : before).Where(a => !removing.Contains(a)).ToList();
        var requested = request.Addresses.Select(devices.Require).DistinctBy(d => d.PciAddress).ToList();
        var listed = new HashSet<string>(kept.Concat(requested.Select(d => d.PciAddress)), StringComparer.OrdinalIgnoreCase);

        // A group is assigned whole: a member left on its host driver at boot makes the group unusable (and with
        // -IncludeGroup joins the list). Peers already listed, bridges and driverless functions do not count.
        foreach (var device in requested.Where(d => !kept.Contains(d.PciAddress, StringComparer.OrdinalIgnoreCase)))
        {
            check(device);
        }

        foreach (var device in requested.ToList())
        {
            var peers = GroupPeers(host, device).Where(p => !listed.Contains(p.PciAddress)).ToList();
            if (peers.Count == 0)
            {
                continue;
            }

            if (request.IncludeGroup)
            {
                peers.ForEach(check);
                requested.AddRange(peers);
                listed.UnionWith(peers.Select(p => p.PciAddress));
            }
            else if (!request.Force)
            {
                throw ErrorCatalog.BootGroupNotIsolated(device.PciAddress, device.IommuGroup, peers.Select(p => $"{p.PciAddress} ({p.DeviceName}, on {p.Driver})"));
            }
        }

        var entries = new List<(string, string)>();
        var present = new List<PciDevice>();
        foreach (var address in kept)
        {
            var device = PciAddress.TryParse(address, out var a) ? devices.Read(a) : null;
            if (device is not null)
            {
                present.Add(device);
            }

            // The ids it was configured for stay, even when another card sits there now: the boot script then skips it.
            var ids = recordedIds.TryGetValue(address, out var recorded) ? recorded : device is null ? "" : $"{device.VendorId}:{device.DeviceId}";
            entries.Add((address, ids));
        }

        var added = requested.Where(d => !kept.Contains(d.PciAddress, StringComparer.OrdinalIgnoreCase)).ToList();
        entries.AddRange(added.Select(d => (d.PciAddress, $"{d.VendorId}:{d.DeviceId}")));
        present.AddRange(added);
        var leaving = before.Where(b => !listed.Contains(b) && !removing.Contains(b)).ToList();
        var stillListed = present.Select(d => d.IommuGroup).OfType<int>().ToHashSet();
        var dropped = before.Where(b => !listed.Contains(b)).Select(b => PciAddress.TryParse(b, out var a) ? devices.Read(a)?.IommuGroup : null)
            .OfType<int>().Where(g => !stillListed.Contains(g)).Distinct().ToList();
        return new BootBindingPlan(added, entries, present, leaving, dropped);
    }

    // The peers that must be bound at boot with the device: members that are no bridge and have a driver (a host
    // driver, or vfio-pci now, which a reboot does not keep).
    private static IEnumerable<PciDevice> GroupPeers(HostSession host, PciDevice device) =>
        device.IommuGroup is int g
            ? host.Groups.Read(g)?.Devices.Where(d => d.PciAddress != device.PciAddress && !d.IsBridge && d.Driver is not (null or "pci-stub" or "pcieport")) ?? []
            : [];
}
