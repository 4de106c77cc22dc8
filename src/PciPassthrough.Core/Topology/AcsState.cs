namespace PciPassthrough.Topology;

/// <summary>
/// A port's ACS extended capability and whether it isolates what lies below it the way the kernel
/// decides it (<c>pci_acs_enabled</c> with <c>REQ_ACS_FLAGS</c>): Source Validation, Request Redirect,
/// Completion Redirect and Upstream Forwarding must be enabled, where a feature absent from the
/// capability word counts as hard-wired enabled (only Egress Control is never masked).
/// </summary>
public sealed class AcsState
{
    /// <summary>The flags the kernel requires for isolation (REQ_ACS_FLAGS).</summary>
    public const AcsFeatures Required = AcsFeatures.SrcValid | AcsFeatures.ReqRedir | AcsFeatures.CmpltRedir | AcsFeatures.UpstreamFwd;

    public AcsState(bool present, AcsFeatures capability, AcsFeatures control)
    {
        Present = present;
        Capability = capability;
        Control = control;
        var needed = Needed(capability);
        Missing = present ? needed & ~control : Required;
        EffectiveIsolation = present && Missing == AcsFeatures.None;
    }

    /// <summary>True when the port has the ACS extended capability.</summary>
    public bool Present { get; }

    /// <summary>The ACS Capability register (ACSCap in lspci -vvv).</summary>
    public AcsFeatures Capability { get; }

    /// <summary>The ACS Control register (ACSCtl in lspci -vvv).</summary>
    public AcsFeatures Control { get; }

    /// <summary>Required flags the port implements but has not enabled (all of them when ACS is absent).</summary>
    public AcsFeatures Missing { get; }

    /// <summary>True when the kernel counts this port as isolating (SV, RR, CR and UF effectively enabled).</summary>
    public bool EffectiveIsolation { get; }

    /// <summary>The kernel's masking: <c>acs_flags &amp;= (cap | PCI_ACS_EC)</c>.</summary>
    public static AcsFeatures Needed(AcsFeatures capability) => Required & (capability | AcsFeatures.EgressCtrl);

    /// <summary>The ACS state a parsed config space shows; null when extended space was not readable.</summary>
    public static AcsState? From(PciConfigSpace config) => config.HasAcs switch
    {
        true => new AcsState(true, config.AcsCapability ?? AcsFeatures.None, config.AcsControl ?? AcsFeatures.None),
        false => new AcsState(false, AcsFeatures.None, AcsFeatures.None),
        null => null,
    };

    public override string ToString() => !Present ? "absent" : EffectiveIsolation ? "isolating" : $"missing {Missing}";
}
