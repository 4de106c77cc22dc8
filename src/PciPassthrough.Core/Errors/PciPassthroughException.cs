namespace PciPassthrough;

/// <summary>What kind of failure an exception reports; the module maps it to an ErrorCategory.</summary>
public enum FailureKind
{
    InvalidArgument,
    NotFound,
    ReadError,
    PermissionDenied,
    ResourceBusy,
    InvalidOperation,
    WriteError,
}

/// <summary>
/// The one exception type the core throws on purpose. <see cref="ErrorId"/> is a public contract:
/// it becomes the FullyQualifiedErrorId that scripts and Pester tests assert on.
/// </summary>
public class PciPassthroughException : Exception
{
    public PciPassthroughException(string errorId, FailureKind kind, string message, string? recommendedAction = null, object? target = null, Exception? innerException = null)
        : base(message, innerException)
    {
        ErrorId = errorId;
        Kind = kind;
        RecommendedAction = recommendedAction;
        Target = target;
    }

    public string ErrorId { get; }

    public FailureKind Kind { get; }

    /// <summary>What the user should do about it, in one sentence.</summary>
    public string? RecommendedAction { get; }

    /// <summary>The offending value (an address, a filter, a path).</summary>
    public object? Target { get; }
}
