using PciPassthrough.HostFs;

namespace PciPassthrough.Binding;

/// <summary>
/// One binder at a time per host: an exclusive flock(2) on /run/lock/pcipassthrough.lock, so it holds
/// across processes (two shells, two runbooks) and dies with its holder (<see cref="FileLock"/>).
/// </summary>
public sealed class BindingLock : IDisposable
{
    public const string HostPath = "/run/lock/pcipassthrough.lock";
    private readonly FileLock _lock;

    private BindingLock(FileLock held) => _lock = held;

    public static BindingLock Acquire(HostRoot root, TimeSpan timeout, CancellationToken cancel, Action<string>? waiting = null) =>
        new(FileLock.Acquire(root, HostPath, timeout, waiting is null ? null : _ => waiting($"Another binding is in progress; waiting for {root.Resolve(HostPath)}."), Failure, path =>
            new PciPassthroughException(ErrorIds.LockTimeout, FailureKind.ResourceBusy, $"Another binding held {path} for longer than {timeout.TotalSeconds:0} s.", "Wait for the other Set-VfioBinding or Remove-VfioBinding to finish, or raise -LockTimeout.", path), cancel));

    public void Dispose() => _lock.Dispose();

    // "Run as root" only when that is the cause; a directory, a link or a read-only or full filesystem
    // in the lock's place is named as it is.
    private static PciPassthroughException Failure(string path, string why, bool denied, Exception? inner) =>
        denied && !Privileges.IsRoot
            ? new(ErrorIds.NotRoot, FailureKind.PermissionDenied, $"Cannot open the binding lock {path}: {why}", "Run as root.", path, inner)
            : new(ErrorIds.LockUnavailable, FailureKind.WriteError, $"Cannot use the binding lock {path}: {why}. Nothing was changed.", $"Make '{path}' a regular file that root can write (remove a directory or link in its place), on a writable filesystem.", path, inner);
}
