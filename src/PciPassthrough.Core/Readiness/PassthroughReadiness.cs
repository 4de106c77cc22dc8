using PciPassthrough.Iommu;

namespace PciPassthrough.Readiness;

/// <summary>Whether one device can be passed through now and after a reboot, with every finding behind that.</summary>
public sealed class PassthroughReadiness
{
    public PassthroughReadiness(PciDevice device, IReadOnlyList<ReadinessCheck> findings, string[] groupMembers)
    {
        Device = device;
        Findings = findings.ToArray();
        GroupMembers = groupMembers;
        var noFail = Findings.All(f => f.Status != CheckStatus.Fail);
        ReadyNow = noFail && Is("BoundToVfio", CheckStatus.Pass) && Is("GroupIsolation", CheckStatus.Pass) && Is("NotInUse", CheckStatus.Pass);
        ReadyAfterReboot = noFail && Is("BindsAtBoot", CheckStatus.Pass) && (Is("HostDriverCannotWin", CheckStatus.Pass) || Is("HostDriverCannotWin", CheckStatus.NotApplicable));
    }

    public string PciAddress => Device.PciAddress;

    public string? DeviceName => Device.DeviceName;

    public string? Driver => Device.Driver;

    public int? IommuGroup => Device.IommuGroup;

    /// <summary>True when a guest could take the device right now: no Fail, on vfio-pci, its group isolated, no guest holding it.</summary>
    public bool ReadyNow { get; }

    /// <summary>True when nothing fails and the device (with its group peers) is configured to reach vfio-pci at boot before a host driver can take it.</summary>
    public bool ReadyAfterReboot { get; }

    public ReadinessCheck[] Findings { get; }

    /// <summary>The other devices of its IOMMU group (bridges excepted), which must go to the guest with it.</summary>
    public string[] GroupMembers { get; }

    public PciDevice Device { get; }

    public string Root => Device.Root;

    public override string ToString() => PciAddress;

    private bool Is(string name, CheckStatus status) => Findings.Any(f => f.Name == name && f.Status == status);
}
