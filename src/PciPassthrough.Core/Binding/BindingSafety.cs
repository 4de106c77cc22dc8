using PciPassthrough.HostFs;
using PciPassthrough.Safety;

namespace PciPassthrough.Binding;

/// <summary>
/// The binder's side of <see cref="DeviceSafetyRules"/>: the first failing rule becomes a typed refusal
/// naming the device, and <c>-Force</c> is the only way past it. Unknown verdicts (inputs missing under
/// a captured root) do not refuse; the readiness audit shows them.
/// </summary>
internal sealed class BindingSafety(DeviceSafetyRules rules)
{
    /// <summary>Rules with fresh host facts (under the lock, where planning's may have gone stale).</summary>
    public BindingSafety(HostRoot root)
        : this(new DeviceSafetyRules(root))
    {
    }

    public DeviceSafetyRules Rules { get; } = rules;

    /// <summary>
    /// Throws the first reason the device must not leave the host, or returns when there is none. For a
    /// boot-time binding the IOMMU may still be off (the same run turns it on), so that is not checked.
    /// </summary>
    public void CheckDevice(PciDevice device, bool atBoot = false)
    {
        if (Rules.FirstFailure(device, atBoot ? SafetyPurpose.BootBind : SafetyPurpose.Bind) is { } failure)
        {
            throw failure.ToRefusal(device);
        }
    }
}
