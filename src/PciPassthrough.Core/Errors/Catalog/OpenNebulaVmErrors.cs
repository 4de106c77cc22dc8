namespace PciPassthrough;

/// <summary>Errors of the OpenNebula VM side (issue 13): host filter attributes and assignment drift.</summary>
public static partial class ErrorCatalog
{
    /// <summary>No device to compute PCI_FILTER/PCI_SHORT_ADDRESS from: empty attributes would let the host offer every device.</summary>
    public static PciPassthroughException NoPassthroughDevices(IReadOnlyList<string> leftOut) => new(
        ErrorIds.NoPassthroughDevices,
        FailureKind.NotFound,
        "No device of the host is on vfio-pci or overridden to it" + (leftOut.Count == 0 ? "." : ": " + string.Join(" ", leftOut)) + " Empty PCI_FILTER and PCI_SHORT_ADDRESS would let OpenNebula offer every device the probe reports.",
        "Bind the devices for guests first (Set-VfioBinding or Set-VfioHostConfiguration), or name them with -Address.",
        null);
}
