namespace PciPassthrough;

/// <summary>Errors of issue 12: configuration writes as a set, locks, and limits on hostile input.</summary>
public static partial class ErrorCatalog
{
    /// <summary>A configuration write failed while replacing files, and every file already replaced was put back.</summary>
    public static PciPassthroughException ConfigurationWriteUndone(string path, string why, IReadOnlyList<string> restored, Exception? inner) => new(
        ErrorIds.ConfigWriteFailed,
        FailureKind.WriteError,
        $"Cannot write {path}: {why}. " + (restored.Count == 0 ? "Nothing was changed." : $"The files already replaced ({string.Join(", ", restored)}) were put back from their backups; nothing was changed."),
        "Fix what the message names (a directory, an immutable file, a full or read-only filesystem in that place) and run the command again.",
        path,
        inner);

    /// <summary>A configuration write failed, and some files already replaced could not be put back.</summary>
    public static PciPassthroughException ConfigurationPartiallyRestored(string path, string why, IReadOnlyList<string> unrestored, Exception? inner) => new(
        ErrorIds.ConfigurationPartiallyRestored,
        FailureKind.WriteError,
        $"Cannot write {path}: {why}. Putting back the files already replaced failed too, so these files hold the new content: {string.Join("; ", unrestored)}.",
        "Restore each named file from the backup given (or delete a new one) by hand, then run the command again; the other files are as they were.",
        unrestored.ToArray(),
        inner);

    /// <summary>A lock file is not a regular file owned by root or the caller, or others may write it.</summary>
    public static PciPassthroughException LockFileNotTrusted(string path, string why) => new(
        ErrorIds.LockFileNotTrusted,
        FailureKind.PermissionDenied,
        $"Refusing the lock file '{path}': {why}. Another user could hold it for ever or have planted it; nothing was changed.",
        $"Check who made it, then remove '{path}'; the next call creates it owned by root with mode 0644.",
        path);

    /// <summary>Another configuration write held the configuration lock past the timeout.</summary>
    public static PciPassthroughException ConfigurationLockTimeout(string path, TimeSpan timeout) => new(
        ErrorIds.ConfigurationLockTimeout,
        FailureKind.ResourceBusy,
        $"Another Set-VfioHostConfiguration or Set-PciProbeFilter held {path} for longer than {timeout.TotalSeconds:0} s; nothing was written.",
        "Wait for the other run to finish (or answer its confirmation prompt), then run the command again.",
        path);

    /// <summary>The configuration lock cannot be opened (a directory or link in its place, a read-only filesystem).</summary>
    public static PciPassthroughException ConfigurationLockUnavailable(string path, string why, Exception? inner) => new(
        ErrorIds.ConfigWriteFailed,
        FailureKind.WriteError,
        $"Cannot use the configuration lock {path}: {why}. Nothing was written.",
        $"Make '{path}' a regular file that root can write (remove a directory or link in its place), on a writable filesystem.",
        path,
        inner);

    /// <summary>An input exceeds a documented limit of nesting or count that keeps the work bounded.</summary>
    public static PciPassthroughException InputTooComplex(string what, string limit, object? target) => new(
        ErrorIds.InputTooComplex,
        FailureKind.InvalidArgument,
        $"{what} exceeds {limit}, far beyond anything OpenNebula or libvirt writes; it was not processed.",
        "Check that it is the right input; split or simplify it to stay within the limit.",
        target);
}
