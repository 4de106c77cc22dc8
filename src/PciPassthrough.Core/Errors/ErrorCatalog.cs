namespace PciPassthrough;

/// <summary>
/// The error catalogue: one factory per error ID, each with the message that says what happened and
/// the recommended action that says what to do. Code that fails calls a factory here instead of
/// composing an exception on the spot, so an ID keeps one wording and one remedy wherever it is
/// raised. The factories are split by area into Catalog/*.cs.
/// </summary>
public static partial class ErrorCatalog
{
    /// <summary>A configuration file the module must edit does not parse; nothing was written.</summary>
    public static PciPassthroughException ConfigFileInvalid(string path, string why, string fix) =>
        new(ErrorIds.ConfigFileInvalid, FailureKind.InvalidArgument, $"{path}: {why}.", $"{fix}; nothing was written.", path);
}
