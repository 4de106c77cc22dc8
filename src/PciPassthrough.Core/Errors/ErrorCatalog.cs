namespace PciPassthrough;

/// <summary>
/// The error catalogue: every error the module raises is made by a factory here, named after the
/// failure, with the message that says what happened and the recommended action that says what to do.
/// Code that fails calls a factory instead of composing an exception on the spot, so a failure keeps
/// one wording and one remedy wherever it is raised, and the IDs and their words can be read in one
/// place. An ID can have more than one factory when it names a family of failures (InvalidPciAddress:
/// an address, an address pattern, a pci.conf short address). The factories are split by area into
/// Catalog/*.cs; the device safety rules keep their own words (see Catalog/SafetyErrors.cs).
/// </summary>
public static partial class ErrorCatalog
{
}
