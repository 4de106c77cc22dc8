using PciPassthrough.HostFs;

namespace PciPassthrough.HostConfig;

/// <summary>
/// One configuration writer at a time (D6): Set-VfioHostConfiguration holds an exclusive lock under the
/// root from planning to the last write, so a second run plans from what the first wrote instead of
/// overwriting it unseen. Set-PciProbeFilter locks the folder of the pci.conf it edits.
/// </summary>
public static class ConfigurationLock
{
    public const string HostPath = "/run/lock/pcipassthrough-config.lock";

    /// <summary>How long a writer waits for another before it gives up.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    public static IDisposable Acquire(HostRoot root, TimeSpan timeout, CancellationToken cancel, Action<string>? waiting = null) =>
        FileLock.Acquire(
            root,
            HostPath,
            timeout,
            waiting,
            (path, why, _, inner) => ErrorCatalog.ConfigurationLockUnavailable(path, why, inner),
            path => ErrorCatalog.ConfigurationLockTimeout(path, timeout),
            cancel);

    /// <summary>The lock of one file's folder; null where the filesystem cannot lock a folder.</summary>
    public static IDisposable? AcquireFolder(string filePath, TimeSpan timeout, CancellationToken cancel, Action<string>? waiting = null) =>
        FileLock.TryAcquireDirectory(
            Path.GetDirectoryName(filePath)!,
            timeout,
            waiting,
            path => ErrorCatalog.ConfigurationLockTimeout(path, timeout),
            cancel);
}
