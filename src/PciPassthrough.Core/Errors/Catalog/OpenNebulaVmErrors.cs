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

    /// <summary>Several hosts' books were given for one host's devices.</summary>
    public static PciPassthroughException AmbiguousHostInventory(string first, string second) => new(
        ErrorIds.AmbiguousHostInventory,
        FailureKind.InvalidArgument,
        $"The inventories of host {first} and host {second} were given; the devices of this host can be compared with one host's books only.",
        "Name the host with -HostName (its name or ID in OpenNebula), or pipe onehost show -x of this host alone.",
        second);

    /// <summary>-HostName matched no given inventory.</summary>
    public static PciPassthroughException HostNotInInventory(string hostName) => new(
        ErrorIds.HostNotInInventory,
        FailureKind.NotFound,
        $"No given inventory is of host '{hostName}'.",
        "Check the name or ID with onehost list, and pipe onehost list -x or onehost show -x through Import-PciHostInventory.",
        hostName);
}
