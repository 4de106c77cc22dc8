using System.Management.Automation;

namespace PciPassthrough.PowerShell.Common;

/// <summary>
/// The one place that turns core failures into ErrorRecords: the error ID, category, target and
/// recommended action all come from the <see cref="PciPassthroughException"/>.
/// </summary>
internal static class ErrorRecords
{
    public static ErrorRecord From(PciPassthroughException e)
    {
        var record = new ErrorRecord(e, e.ErrorId, Category(e.Kind), e.Target);
        if (e.RecommendedAction is not null)
        {
            record.ErrorDetails = new ErrorDetails(e.Message) { RecommendedAction = e.RecommendedAction };
        }

        return record;
    }

    /// <summary>For the failures the core does not anticipate (an I/O error from the kernel, say).</summary>
    public static ErrorRecord Unexpected(Exception e, string errorId, object? target) =>
        new(e, errorId, e is UnauthorizedAccessException ? ErrorCategory.PermissionDenied
            : errorId == ErrorIds.SysfsUnreadable ? ErrorCategory.ReadError : ErrorCategory.WriteError, target);

    private static ErrorCategory Category(FailureKind kind) => kind switch
    {
        FailureKind.InvalidArgument => ErrorCategory.InvalidArgument,
        FailureKind.NotFound => ErrorCategory.ObjectNotFound,
        FailureKind.ReadError => ErrorCategory.ReadError,
        FailureKind.PermissionDenied => ErrorCategory.PermissionDenied,
        FailureKind.ResourceBusy => ErrorCategory.ResourceBusy,
        FailureKind.WriteError => ErrorCategory.WriteError,
        _ => ErrorCategory.InvalidOperation,
    };
}
