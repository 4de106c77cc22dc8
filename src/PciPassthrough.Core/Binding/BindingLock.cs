using PciPassthrough.HostFs;

namespace PciPassthrough.Binding;

/// <summary>
/// One binder at a time per host: an exclusive lock on /run/lock/pcipassthrough.lock. .NET takes it with
/// flock(2) on Linux, so it holds across processes (two shells, two runbooks) and dies with its holder.
/// </summary>
public sealed class BindingLock : IDisposable
{
    public const string HostPath = "/run/lock/pcipassthrough.lock";
    private readonly FileStream _stream;

    private BindingLock(FileStream stream) => _stream = stream;

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
            throw new PciPassthroughException(ErrorIds.LockTimeout, FailureKind.PermissionDenied, $"Cannot create the lock directory for '{path}': {e.Message}", "Run as root; the binding lock lives under /run/lock.", path, e);
        }

        var deadline = DateTime.UtcNow + timeout;
        var told = false;
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            try
            {
                return new BindingLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                if (!told)
                {
                    waiting?.Invoke($"Another binding is in progress; waiting for {path}.");
                    told = true;
                }

                Thread.Sleep(50);
            }
            catch (IOException e)
            {
                throw new PciPassthroughException(ErrorIds.LockTimeout, FailureKind.ResourceBusy, $"Another binding held {path} for longer than {timeout.TotalSeconds:0} s.", "Wait for the other Set-VfioBinding or Remove-VfioBinding to finish, or raise -LockTimeout.", path, e);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new PciPassthroughException(ErrorIds.NotRoot, FailureKind.PermissionDenied, $"Cannot open the binding lock {path}: {e.Message}", "Run as root.", path, e);
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
