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
        new(FileLock.Acquire(
            root,
            HostPath,
            timeout,
            waiting is null ? null : _ => waiting($"Another binding is in progress; waiting for {root.Resolve(HostPath)}."),
            Failure,
            path => ErrorCatalog.LockTimeout(path, timeout),
            cancel));

    public void Dispose() => _lock.Dispose();

    // "Run as root" only when that is the cause; a directory, a link or a read-only or full filesystem
    // in the lock's place is named as it is.
    private static PciPassthroughException Failure(string path, string why, bool denied, Exception? inner) =>
        denied && !Privileges.IsRoot
            ? ErrorCatalog.LockNeedsRoot(path, why, inner)
            : ErrorCatalog.LockUnavailable(path, why, inner);
}
