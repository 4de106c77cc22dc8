using System.Text.RegularExpressions;
using PciPassthrough.HostFs;
using PciPassthrough.Iommu;

namespace PciPassthrough.Mdev;

/// <summary>
/// Where mdevctl's definitions and the running mediated devices disagree, each as a finding with its
/// fix: definitions that should run and do not, devices that will not survive a reboot, type
/// mismatches, definitions whose parent is gone, and the udev rule that starts "auto" devices at boot
/// naming a mdevctl that is not there (Debian 12: /usr/sbin/mdevctl, while the package installs
/// /usr/bin/mdevctl; mdevctl/mdevctl#82).
/// </summary>
public static partial class MediatedDeviceDrift
{
    /// <summary>Where udev looks for the rule, the administrator's copy first (it overrides the package's).</summary>
    public static readonly string[] UdevRulePaths = ["/etc/udev/rules.d/60-mdevctl.rules", "/usr/lib/udev/rules.d/60-mdevctl.rules", "/lib/udev/rules.d/60-mdevctl.rules"];

    private static readonly string[] MdevctlPaths = ["/usr/bin/mdevctl", "/usr/sbin/mdevctl", "/bin/mdevctl", "/sbin/mdevctl"];

    public static IReadOnlyList<ReadinessCheck> Check(HostRoot root)
    {
        var reader = new MediatedDeviceReader(root);
        var (devices, errors) = reader.Devices();
        var parents = reader.Parents().ToHashSet(StringComparer.Ordinal);
        var defined = devices.Where(d => d.State != MediatedDeviceState.Active).ToList();
        var checks = new List<ReadinessCheck>();

        var missingParent = defined.Where(d => !parents.Contains(d.Parent)).ToList();
        checks.Add(missingParent.Count == 0
            ? new("ParentMissing", CheckStatus.Pass, "Every definition's parent is present in /sys/class/mdev_bus.")
            : new("ParentMissing", CheckStatus.Warning, $"Defined for a parent that is not present: {List(missingParent)}.", "Load the parent's driver (or enable the GPU's VFs), or delete stale definitions: Remove-MediatedDevice -Undefine."));

        var notActive = defined.Where(d => d.State == MediatedDeviceState.Defined && d.StartMode == MediatedDeviceStartMode.Auto && parents.Contains(d.Parent)).ToList();
        checks.Add(notActive.Count == 0
            ? new("DefinedNotActive", CheckStatus.Pass, "Every definition with start=auto whose parent is present is active.")
            : new("DefinedNotActive", CheckStatus.Warning, $"Defined with start=auto but not active: {List(notActive)}.", "Start them (New-MediatedDevice -Parent P -Type T -Uuid U, or mdevctl start -u U) and check MdevctlUdevRuleBroken: the boot did not start them."));

        var undefined = devices.Where(d => d.State == MediatedDeviceState.Active).ToList();
        checks.Add(undefined.Count == 0
            ? new("ActiveNotDefined", CheckStatus.Pass, "Every active mediated device is defined in /etc/mdevctl.d.")
            : new("ActiveNotDefined", CheckStatus.Warning, $"Active but not defined, so gone after a reboot: {List(undefined)}.", "Persist them: New-MediatedDevice -Parent P -Type T -Uuid U -Persist -StartMode Auto (or mdevctl define -u U --auto)."));

        var mismatch = devices.Where(d => d.State == MediatedDeviceState.ActiveAndDefined && d.DefinedType != d.Type).ToList();
        checks.Add(mismatch.Count == 0
            ? new("TypeMismatch", CheckStatus.Pass, "Every active device that is defined runs the defined type.")
            : new("TypeMismatch", CheckStatus.Fail, $"Running a type other than the defined one: {string.Join(", ", mismatch.Select(d => $"{d.Uuid} on {d.Parent} runs {d.Type}, defined {d.DefinedType}"))}.", "Remove the device and create it again with the defined type, or redefine it (Remove-MediatedDevice -Undefine, then New-MediatedDevice -Persist)."));

        if (errors.Count > 0)
        {
            checks.Add(new("DefinitionsReadable", CheckStatus.Fail, string.Join(" ", errors.Select(e => e.Message)), errors[0].RecommendedAction));
        }

        checks.Add(UdevRule(root, defined.Any(d => d.StartMode == MediatedDeviceStartMode.Auto)));
        return checks;
    }

    private static ReadinessCheck UdevRule(HostRoot root, bool anyAuto)
    {
        const string Name = "MdevctlUdevRuleBroken";
        var path = UdevRulePaths.FirstOrDefault(root.Exists);
        var rule = path is null ? null : root.TryReadText(path);
        if (path is null || rule is null)
        {
            return new(Name, CheckStatus.NotApplicable, "No 60-mdevctl.rules: mdevctl is not installed, so nothing starts definitions at boot.");
        }

        var named = MdevctlPath().Matches(rule).Select(m => m.Value).Distinct(StringComparer.Ordinal).ToList();
        var missing = named.Where(p => !root.Exists(p)).ToList();
        if (missing.Count == 0)
        {
            return new(Name, CheckStatus.Pass, $"{path} runs {string.Join(", ", named)}, which exists.");
        }

        var real = MdevctlPaths.FirstOrDefault(root.Exists);
        var remedy = real is null
            ? "Install mdevctl (apt-get install mdevctl)."
            : $"Install a corrected copy that overrides the package's rule: sed 's|{missing[0]}|{real}|g' {path} > /etc/udev/rules.d/60-mdevctl.rules && udevadm control --reload (mdevctl/mdevctl#82).";
        return new(Name, anyAuto ? CheckStatus.Fail : CheckStatus.Warning, $"{path} runs {string.Join(", ", missing)}, which does not exist{(real is null ? "" : $" (mdevctl is {real})")}: definitions with start=auto do not start when their parent appears at boot{(anyAuto ? "" : "; no definition has start=auto now")}.", remedy);
    }

    private static string List(IEnumerable<MediatedDevice> devices) => string.Join(", ", devices.Select(d => $"{d.Uuid} ({d.Parent} {d.Type})"));

    [GeneratedRegex(@"/[^\s'""{};|&]*/mdevctl(?=[\s'""]|$)")]
    private static partial Regex MdevctlPath();
}
