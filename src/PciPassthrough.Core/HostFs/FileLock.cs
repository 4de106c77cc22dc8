using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace PciPassthrough.HostFs;

/// <summary>
/// An exclusive flock(2) on a lock file under a root, waited for up to a timeout: the one lock code
/// behind the binding lock and the configuration lock. Taken with flock directly, not through .NET's
/// FileShare emulation, so only "another process holds it" means busy and no environment variable can
/// turn the exclusion off. The file is opened without following a link and must be a regular file
/// owned by root or the caller, not writable by others: a lock file someone else planted is refused.
/// </summary>
public sealed class FileLock : IDisposable
{
    private const int ModeRwRR = 420; // 0644
    private readonly SafeFileHandle _handle;

    private FileLock(SafeFileHandle handle) => _handle = handle;

    /// <param name="failure">The error for a lock that cannot be opened: (path, why, permission denied, inner).</param>
    /// <param name="timedOut">The error for a lock another process held past the timeout: (path).</param>
    public static FileLock Acquire(
        HostRoot root,
        string hostPath,
        TimeSpan timeout,
        Action<string>? waiting,
        Func<string, string, bool, Exception?, PciPassthroughException> failure,
        Func<string, PciPassthroughException> timedOut,
        CancellationToken cancel)
    {
        var path = root.Resolve(hostPath);
        root.EnsureWithin(path);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw failure(path, $"its directory cannot be created: {e.Message}", e is UnauthorizedAccessException, e);
        }

        SafeFileHandle handle;
        try
        {
            // O_NOFOLLOW: in a world-writable /run/lock, a link planted at the lock's name must not make
            // root create or open a file elsewhere.
            handle = NativeFile.Open(path, NativeFile.ReadWrite | NativeFile.Create, ModeRwRR);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw failure(path, e.Message, e is UnauthorizedAccessException, e);
        }

        try
        {
            EnsureTrusted(handle, path);
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        return Wait(handle, path, timeout, waiting, failure, timedOut, cancel);
    }

    /// <summary>
    /// The same lock on a directory itself (flock on its descriptor): serializes writers of the files
    /// in a folder the module does not own (OpenNebula's probe folder, a file given by -Path) without
    /// creating a lock file there. Null when the filesystem cannot lock a directory (NFS): the caller
    /// then writes unlocked, as before.
    /// </summary>
    public static FileLock? TryAcquireDirectory(
        string directory,
        TimeSpan timeout,
        Action<string>? waiting,
        Func<string, PciPassthroughException> timedOut,
        CancellationToken cancel)
    {
        SafeFileHandle handle;
        try
        {
            handle = NativeFile.OpenForReadingNonBlocking(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        try
        {
            return Wait(handle, directory, timeout, waiting, (_, _, _, _) => null, timedOut, cancel);
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }

    // The wait loop both locks share; the handle is the caller's until a lock is returned.
    private static FileLock Wait(
        SafeFileHandle handle,
        string path,
        TimeSpan timeout,
        Action<string>? waiting,
        Func<string, string, bool, Exception?, PciPassthroughException?> failure,
        Func<string, PciPassthroughException> timedOut,
        CancellationToken cancel)
    {
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
                    return new FileLock(handle);
                }

                if (errno != NativeFile.WouldBlock)
                {
                    throw failure(path, $"flock failed: {Marshal.GetPInvokeErrorMessage(errno)}", false, null) ?? (Exception)new NotSupportedException(path);
                }

                if (waited.Elapsed >= timeout)
                {
                    throw timedOut(path);
                }

                if (!told)
                {
                    waiting?.Invoke($"Another run holds {path}; waiting for it.");
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

    // Checked on the open file (fstat), so a rename between the check and the lock changes nothing. A
    // lock file another user owns could be held by that user for ever; one others may write was
    // tampered with.
    private static void EnsureTrusted(SafeFileHandle handle, string path)
    {
        var stat = FileOwnership.Read(handle);
        if (stat is null)
        {
            return;
        }

        var me = (int)geteuid();
        if (!stat.IsRegularFile || (stat.Uid != 0 && stat.Uid != me) || (stat.Mode & 0b000_010_010) != 0)
        {
            throw ErrorCatalog.LockFileNotTrusted(path, stat.IsRegularFile ? $"it is owned by uid {stat.Uid} with mode {stat.OctalMode}" : "it is not a regular file");
        }
    }

    [DllImport("libc")]
    private static extern uint geteuid();
}
