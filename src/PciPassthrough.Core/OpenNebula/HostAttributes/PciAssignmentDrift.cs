using System.Globalization;
using PciPassthrough.Host;
using PciPassthrough.Iommu;
using PciPassthrough.OpenNebula.Placement;

namespace PciPassthrough.OpenNebula.HostAttributes;

/// <summary>How OpenNebula's books (HOST_SHARE/PCI_DEVICES VMID) and the host (who holds /dev/vfio/N) agree on a device.</summary>
public enum PciAssignmentState
{
    /// <summary>Both agree: free and not held, or assigned to the VM that holds it.</summary>
    Consistent,

    /// <summary>Assigned to a VM in OpenNebula, but no process holds the device's group (the VM is off, or gone).</summary>
    ReservedNotHeld,

    /// <summary>Assigned to one VM in OpenNebula, held by another OpenNebula VM.</summary>
    HeldByOtherVm,

    /// <summary>Free in OpenNebula, held by an OpenNebula VM: OpenNebula may give it to a second VM.</summary>
    HeldByUnrecordedVm,

    /// <summary>Held by a process that is not an OpenNebula VM.</summary>
    HeldOutsideOpenNebula,

    /// <summary>In OpenNebula's books, absent from the host.</summary>
    MissingOnHost,

    /// <summary>Held by an OpenNebula VM on the host, absent from OpenNebula's books for the host.</summary>
    NotInOpenNebula,
}

/// <summary>One device where OpenNebula's books and the host are compared, with what to do.</summary>
public sealed class PciAssignmentDrift
{
    internal PciAssignmentDrift(string hostName, string pciAddress, int? openNebulaVmId, PciDevice? live, PciAssignmentState state, CheckStatus status, string message, string? recommendedAction)
    {
        HostName = hostName;
        PciAddress = pciAddress;
        OpenNebulaVmId = openNebulaVmId;
        HeldBy = live?.InUse ?? [];
        IommuGroup = live?.IommuGroup;
        State = state;
        Status = status;
        Message = message;
        RecommendedAction = recommendedAction;
    }

    public string HostName { get; }

    public string PciAddress { get; }

    /// <summary>The VMID OpenNebula records for the device (-1 free); null when OpenNebula does not list it.</summary>
    public int? OpenNebulaVmId { get; }

    /// <summary>The processes holding the device's /dev/vfio/N, with the OpenNebula VM id parsed from each.</summary>
    public IReadOnlyList<VfioUser> HeldBy { get; }

    /// <summary>The OpenNebula VMs (one-&lt;ID&gt;) among <see cref="HeldBy"/>.</summary>
    public IReadOnlyList<int> HeldByVmIds => HeldBy.Where(u => u.VmId is not null).Select(u => u.VmId!.Value).Distinct().ToArray();

    public int? IommuGroup { get; }

    public PciAssignmentState State { get; }

    /// <summary>Pass when consistent; Warning when it may be normal (a VM powered off); Fail when a VM start can fail.</summary>
    public CheckStatus Status { get; }

    public string Message { get; }

    public string? RecommendedAction { get; }

    public override string ToString() => $"{PciAddress} {State}: {Message}";
}

/// <summary>
/// Compares OpenNebula's PCI bookkeeping of a host (onehost show -x: VMID per device, -1 free) with who
/// holds each device's /dev/vfio/N on the host (QEMU run by OpenNebula is <c>-name guest=one-&lt;ID&gt;</c>).
/// The holder of a group holds every device of the group, so a free peer of an assigned device shows as held.
/// </summary>
public static class PciAssignmentDriftChecker
{
    public static IReadOnlyList<PciAssignmentDrift> Check(HostSession session, PciHostInventory books)
    {
        ArgumentNullException.ThrowIfNull(session);
        return Check(books, session.Devices.ReadAll().ToList());
    }

    public static IReadOnlyList<PciAssignmentDrift> Check(PciHostInventory books, IReadOnlyList<PciDevice> live)
    {
        ArgumentNullException.ThrowIfNull(books);
        ArgumentNullException.ThrowIfNull(live);
        var byAddress = live.ToDictionary(d => d.PciAddress, StringComparer.Ordinal);
        var result = books.Devices.Select(d => Judge(books.HostName, d, byAddress.GetValueOrDefault(d.PciAddress))).ToList();
        var listed = books.Devices.Select(d => d.PciAddress).ToHashSet(StringComparer.Ordinal);
        foreach (var d in live.Where(d => !listed.Contains(d.PciAddress) && d.InUse.Any(u => u.VmId is not null)))
        {
            var vms = Vms(d);
            result.Add(new(books.HostName, d.PciAddress, null, d, PciAssignmentState.NotInOpenNebula, CheckStatus.Warning,
                $"{Held(d)}, but OpenNebula does not list {d.PciAddress} for host {books.HostName}: its probe filter, PCI_FILTER or PCI_SHORT_ADDRESS leave it out, or VM {vms} got it outside a PCI section.",
                $"If VM {vms} should have it, give the host the device (New-PciHostFilter, Set-PciProbeFilter) and run onehost sync --force; otherwise remove the hostdev from the VM."));
        }

        return result.OrderBy(r => r.PciAddress, StringComparer.Ordinal).ToList();
    }

    private static PciAssignmentDrift Judge(string hostName, PciHostDevice booked, PciDevice? live)
    {
        var vmid = booked.VmId;
        PciAssignmentDrift R(PciAssignmentState state, CheckStatus status, string message, string? action = null) =>
            new(hostName, booked.PciAddress, vmid, live, state, status, message, action);

        if (live is null)
        {
            return vmid < 0
                ? R(PciAssignmentState.MissingOnHost, CheckStatus.Warning, $"OpenNebula lists {booked.PciAddress} as free, but the host has no such device.", "OpenNebula drops a free device that the probe no longer reports at the next monitoring; check that the device was not removed or renumbered (onehost sync --force).")
                : R(PciAssignmentState.MissingOnHost, CheckStatus.Fail, $"OpenNebula gives {booked.PciAddress} to VM {vmid}, but the host has no such device.", $"VM {vmid} cannot start here with it: check the hardware and the BIOS; OpenNebula keeps the device until VM {vmid} releases it (onevm undeploy or terminate).");
        }

        var others = live.InUse.Where(u => u.VmId is null).ToList();
        var vms = live.InUse.Where(u => u.VmId is not null).Select(u => u.VmId!.Value).Distinct().ToList();
        if (others.Count > 0)
        {
            return R(PciAssignmentState.HeldOutsideOpenNebula, CheckStatus.Fail,
                $"{Held(live)}, which is not an OpenNebula VM" + (vmid >= 0 ? $"; OpenNebula gives the device to VM {vmid}." : "; OpenNebula lists the device as free and may give it to a VM, whose start then fails."),
                $"Stop {string.Join(", ", others)}, or take the device away from OpenNebula (New-PciHostFilter without it, then onehost update).");
        }

        if (vms.Count == 0)
        {
            return vmid < 0
                ? R(PciAssignmentState.Consistent, CheckStatus.Pass, "Free in OpenNebula and held by no process.")
                : R(PciAssignmentState.ReservedNotHeld, CheckStatus.Warning,
                    $"OpenNebula gives the device to VM {vmid}, but no process holds its IOMMU group {Group(live)}.",
                    $"Normal while VM {vmid} is powered off or being deployed (onevm show {vmid}). If VM {vmid} is gone (DONE) or runs on another host, run onedb fsck on the front-end: it recomputes the hosts' PCI usage from the VMs.");
        }

        if (vmid >= 0 && vms.SequenceEqual([vmid]))
        {
            return R(PciAssignmentState.Consistent, CheckStatus.Pass, $"OpenNebula gives the device to VM {vmid}, which holds it.");
        }

        var holders = string.Join(", ", vms.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        return vmid < 0
            ? R(PciAssignmentState.HeldByUnrecordedVm, CheckStatus.Fail,
                $"{Held(live)}, but OpenNebula lists the device as free and may give it to another VM, whose start then fails.",
                $"Check VM {holders} (onevm show): if it runs here, run onedb fsck on the front-end to record the device; if it holds the device through a peer of its IOMMU group {Group(live)}, that peer cannot go to another VM either (leave it out with New-PciHostFilter).")
            : R(PciAssignmentState.HeldByOtherVm, CheckStatus.Fail,
                $"{Held(live)}, but OpenNebula gives the device to VM {vmid}.",
                $"VM {vmid} cannot start here while VM {holders} holds it: check both (onevm show), then run onedb fsck on the front-end to correct the books.");
    }

    private static string Held(PciDevice d) => $"{d.PciAddress} is held by {VfioUser.Describe(d.InUse)}";

    private static string Vms(PciDevice d) => string.Join(", ", d.InUse.Where(u => u.VmId is not null).Select(u => u.VmId!.Value.ToString(CultureInfo.InvariantCulture)).Distinct());

    private static string Group(PciDevice d) => d.IommuGroup?.ToString(CultureInfo.InvariantCulture) ?? "?";
}
