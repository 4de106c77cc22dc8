namespace PciPassthrough;

/// <summary>
/// The refusals of the device safety rules. Each rule (Safety/DeviceSafetyRules.cs) owns its error ID,
/// its finding's words and its remedy, because readiness shows the same finding as a check; a refusal
/// wraps the finding in one sentence, the same for every rule.
/// </summary>
public static partial class ErrorCatalog
{
    public static PciPassthroughException SafetyRefusal(PciDevice device, string errorId, FailureKind kind, string detail, string? remedy) => new(
        errorId, kind,
        $"Refusing to change {device.PciAddress} ({device.DeviceName}): {char.ToLowerInvariant(detail[0])}{detail[1..].TrimEnd('.')}.",
        remedy,
        device.PciAddress);
}
