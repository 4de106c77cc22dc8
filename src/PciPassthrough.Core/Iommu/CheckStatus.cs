namespace PciPassthrough.Iommu;

/// <summary>The verdict of one check. A Fail blocks passthrough; a Warning works but deserves a look.</summary>
public enum CheckStatus
{
    Pass,
    Warning,
    Fail,
    NotApplicable,
}
