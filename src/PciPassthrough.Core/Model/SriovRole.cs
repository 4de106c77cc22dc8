namespace PciPassthrough;

/// <summary>The device's place in SR-IOV: a physical function that can spawn VFs, a VF, or neither.</summary>
public enum SriovRole
{
    None,
    PF,
    VF,
}
