using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using PciPassthrough.HostFs;

namespace PciPassthrough.Binding;

/// <summary>
/// One binder at a time per host: an exclusive flock(2) on /run/lock/pcipassthrough.lock, so it holds
/// across processes (two shells, two runbooks) and dies with its holder. Taken with flock directly,
/// not through .NET's FileShare emulation, so that only "another process holds it" means busy (every
/// other failure names its cause) and no environment variable can turn the exclusion off.
/// </summary>
public sealed class BindingLock : IDisposable
{
    public const string HostPath = "/run/lock/pcipassthrough.lock";
    private const int ModeRwRR = 420; // 0644
    private readonly SafeFileHandle _handle;

    private BindingLock(SafeFileHandle handle) => _handle = handle;

    public static BindingLock Acquire(HostRoot root, TimeSpan timeout, CancellationToken cancel, Action<string>? waiting = null)
    {
        var path = root.Resolve(HostPath);
        root.EnsureWithin(path);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure(path, $"its directory cannot be created: {e.Message}", e is UnauthorizedAccessException, e);
        }

        var handle = Open(path);
        try
        {
            // A monotonic clock: a step of the wall clock neither cuts the wait short nor stretches it.
            var waited = Stopwatch.StartNew();
            var told = false;
            while (true)
            {
                cancel.ThrowIfCancellationRequested();
                var errno = NativeFile.TryLockExclusive(handle);
                if (errno == 0)
                {
                    return new BindingLock(handle);
                }

                if (errno != NativeFile.WouldBlock)
                {
                    throw Failure(path, $"flock failed: {Marshal.GetPInvokeErrorMessage(errno)}", false, null);
                }

                if (waited.Elapsed >= timeout)
                {
                    throw ErrorCatalog.LockTimeout(path, timeout);
                }

                if (!told)
                {
                    waiting?.Invoke($"Another binding is in progress; waiting for {path}.");
                    told = true;
                }

                Thread.Sleep(50);
            }
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public void Dispose() => _handle.Dispose();

    // O_NOFOLLOW: in a world-writable /run/lock, a link planted at the lock's name must not make root
    // create or open a file elsewhere.
    private static SafeFileHandle Open(string path)
    {
        try
        {
            return NativeFile.Open(path, NativeFile.ReadWrite | NativeFile.Create, ModeRwRR);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure(path, e.Message, e is UnauthorizedAccessException, e);
        }
    }

    // "Run as root" only when that is the cause; a directory, a link or a read-only or full filesystem
    // in the lock's place is named as it is.
    private static PciPassthroughException Failure(string path, string why, bool denied, Exception? inner) =>
        denied && !Privileges.IsRoot
            ? ErrorCatalog.LockNeedsRoot(path, why, inner)
            : ErrorCatalog.LockUnavailable(path, why, inner);
}
