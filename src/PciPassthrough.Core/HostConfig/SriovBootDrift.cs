using PciPassthrough.HostFs;
using PciPassthrough.Iommu;
using PciPassthrough.Sysfs;

namespace PciPassthrough.HostConfig;

/// <summary>
/// Test-VfioHostConfiguration's SR-IOV checks: SriovIdentityDrift (each configured PF is still the card it was
/// configured for: the boot script skips it otherwise) and SriovCountDrift (the PFs run with the count and
/// autoprobe the boot sets, and the unit that sets them is installed).
/// </summary>
internal static class SriovBootDrift
{
    public const string Identity = "SriovIdentityDrift";
    public const string Count = "SriovCountDrift";

    public static IReadOnlyList<ReadinessCheck> Check(HostRoot root, PciDeviceReader devices)
    {
        IReadOnlyList<SriovBootEntry> entries;
        try
        {
            entries = SriovBootConfiguration.Read(root);
        }
        catch (PciPassthroughException e)
        {
            return [new(Identity, CheckStatus.Fail, e.Message, e.RecommendedAction), new(Count, CheckStatus.Fail, e.Message, e.RecommendedAction)];
        }

        if (entries.Count == 0)
        {
            var none = $"{SriovBootConfiguration.Path} creates no VF at boot.";
            return [new(Identity, CheckStatus.NotApplicable, none), new(Count, CheckStatus.NotApplicable, none)];
        }

        var changed = new List<string>();
        var counts = new List<string>();
        foreach (var e in entries)
        {
            var pf = PciAddress.TryParse(e.PciAddress, out var a) ? devices.Read(a) : null;
            var ids = $"{e.VendorId}:{e.DeviceId}";
            if (pf is null)
            {
                changed.Add($"no device is at {e.PciAddress} (configured for {ids})");
            }
            else if ($"{pf.VendorId}:{pf.DeviceId}" != ids)
            {
                changed.Add($"{e.PciAddress} is now {pf.VendorId}:{pf.DeviceId}, not the {ids} it was configured for: the boot skips it");
            }
            else if (pf.NumVfs != e.NumVfs)
            {
                counts.Add($"{e.PciAddress} has {pf.NumVfs?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no sriov_numvfs, so no"} VFs, the boot creates {e.NumVfs}");
            }
            else if (e.NumVfs > 0 && pf.DriversAutoprobe is bool autoprobe && autoprobe != e.DriversAutoprobe)
            {
                counts.Add($"{e.PciAddress}'s VFs were created with sriov_drivers_autoprobe {(autoprobe ? 1 : 0)}, the boot sets {(e.DriversAutoprobe ? 1 : 0)}");
            }
        }

        if (!root.Exists(SriovBootService.UnitPath) || !root.Exists(SriovBootService.ScriptPath))
        {
            counts.Add($"{SriovBootService.UnitPath} or {SriovBootService.ScriptPath} is missing, so nothing creates the VFs at boot");
        }

        var listed = string.Join(", ", entries.Select(e => e.PciAddress));
        return
        [
            changed.Count == 0
            ? new(Identity, CheckStatus.Pass, $"Every PF configured for boot-time VFs is the card it was configured for: {listed}.")
            : new(Identity, CheckStatus.Warning, string.Join("; ", changed) + ".", "After moving or replacing a card, configure its new address (Set-VfioHostConfiguration -VirtualFunctionCount @{ '<address>' = <count> }) and drop the old one (-RemoveVirtualFunctionCount <old address>)."),
            counts.Count == 0
            ? new(Count, CheckStatus.Pass, $"Every configured PF runs with the VF count and autoprobe the boot sets: {listed}.")
            : new(Count, CheckStatus.Warning, string.Join("; ", counts) + ".", $"Make the host match the boot (Set-PciVirtualFunctionCount, or run {SriovBootService.ScriptPath}), or persist what runs now (Set-VfioHostConfiguration -PersistVirtualFunctions, or -VirtualFunctionCount @{{ '<address>' = <count> }})."),
        ];
    }
}
