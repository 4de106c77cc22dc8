namespace PciPassthrough.Iommu;

/// <summary>
/// The verdict of one check. A Fail blocks passthrough; a Warning works but deserves a look; Unknown
/// means what the check needs could not be read (a captured tree without /proc), so it is not a Pass.
/// </summary>
public enum CheckStatus
{
    Pass,
    Warning,
    Fail,
    NotApplicable,
    Unknown,
}
