namespace PciPassthrough.HostFs;

/// <summary>
/// The filesystem root a host is read from: <c>/</c> for the live host, or a captured or synthetic
/// tree holding <c>sys/</c>, <c>proc/</c>, <c>dev/</c>, <c>etc/</c> and <c>lib/modules/</c>.
/// </summary>
public sealed class HostRoot
{
    public HostRoot(string? root)
    {
        var path = string.IsNullOrEmpty(root) ? "/" : root;
        string full;
        try
        {
            full = System.IO.Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw NotFound(path, e);
        }

        if (!Directory.Exists(full))
        {
            throw NotFound(path, null);
        }

        Path = full.Length > 1 ? full.TrimEnd('/') : full;
    }

    /// <summary>The absolute root, without a trailing slash except for <c>/</c> itself.</summary>
    public string Path { get; }

    public bool IsLiveHost => Path == "/";

    /// <summary>An absolute host path (<c>/sys/bus/pci</c>) re-rooted under this root.</summary>
    public string Resolve(string hostPath)
    {
        // Host paths are often built from host data (a kernel release, a mount source, an interface
        // name). A NUL there names no file, but .NET throws ArgumentException for it: map it to a
        // character no host path holds, so every caller sees "missing", as it would for any bad name.
        if (hostPath.Contains('\0', StringComparison.Ordinal))
        {
            hostPath = hostPath.Replace('\0', '\uFFFD');
        }

        var relative = hostPath.TrimStart('/');
        return Path == "/" ? "/" + relative : Path + "/" + relative;
    }

    /// <summary>Reads a host text file; null when it is missing or unreadable (the caller says what that means).</summary>
    public string? TryReadText(string hostPath)
    {
        // Probes ask for many files a device may lack (sriov_numvfs on every VF): a stat is far cheaper than
        // the exception a missing file throws, above all in the NativeAOT pci-probe. The catch stays for races.
        var full = Resolve(hostPath);
        if (!File.Exists(full))
        {
            return null;
        }

        try
        {
            return ReadCapped(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>The most a host text file may hold; sysfs and /proc files are far smaller.</summary>
    public const int MaxTextBytes = 16 << 20;

    // A captured tree may hold a FIFO (an open that never returns) or a link to /dev/zero (a read that
    // never ends): open without blocking and stop at MaxTextBytes (an IOException, so null), so neither
    // hangs nor exhausts memory. A FIFO reads as empty, as sysfs files of a missing value do.
    private static string? ReadCapped(string full) => BoundedFile.ReadText(full, MaxTextBytes, regularFilesOnly: false);

    /// <summary>The names in a host directory, sorted; empty when it is missing or unreadable.</summary>
    public IReadOnlyList<string> ListNames(string hostPath)
    {
        // As in TryReadText: most devices have no net/ folder, and a stat costs less than the exception.
        var full = Resolve(hostPath);
        if (!Directory.Exists(full))
        {
            return [];
        }

        try
        {
            var names = Directory.EnumerateFileSystemEntries(full).Select(System.IO.Path.GetFileName).OfType<string>().ToList();
            names.Sort(StringComparer.Ordinal);
            return names;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>True when the host path exists (file, directory or link, even dangling).</summary>
    public bool Exists(string hostPath)
    {
        var full = Resolve(hostPath);
        return File.Exists(full) || Directory.Exists(full) || new FileInfo(full).LinkTarget is not null;
    }

    /// <summary>
    /// Refuses a path that leaves this root through a symbolic link (an absolute link in a captured
    /// tree would send a write to the live host): the deepest existing ancestor, resolved, must lie
    /// under the resolved root.
    /// </summary>
    public void EnsureWithin(string fullPath)
    {
        if (IsLiveHost)
        {
            return;
        }

        var existing = fullPath;
        while (!Directory.Exists(existing) && !File.Exists(existing))
        {
            existing = System.IO.Path.GetDirectoryName(existing) ?? "/";
        }

        var resolved = RealPath(existing);
        var root = RealPath(Path);
        if (resolved is null || root is null || !(resolved == root || resolved.StartsWith(root + "/", StringComparison.Ordinal)))
        {
            throw ErrorCatalog.OutsideRoot(fullPath, resolved, Path);
        }
    }

    /// <summary>The host path of a full path under this root (Resolve's inverse); the full path when it is not under it.</summary>
    public string ToHostPath(string fullPath)
    {
        if (IsLiveHost)
        {
            return fullPath;
        }

        foreach (var prefix in new[] { Path, RealPath(Path) })
        {
            if (prefix is not null && fullPath.StartsWith(prefix + "/", StringComparison.Ordinal))
            {
                return fullPath[prefix.Length..];
            }
        }

        return fullPath;
    }

    /// <summary>
    /// A host path to write or to read a link at, with its directories resolved: refused (PathOutsideRoot)
    /// when they lead out of this root, as an absolute link in a captured tree would lead to the live
    /// host's sysfs. The final component is left for the caller to open without following it.
    /// </summary>
    public string ResolveContained(string hostPath)
    {
        var full = Resolve(hostPath);
        if (IsLiveHost)
        {
            return full;
        }

        var parent = System.IO.Path.GetDirectoryName(full) ?? Path;
        EnsureWithin(parent);
        var real = RealPath(parent);
        return real is null ? full : (real == "/" ? "/" : real + "/") + System.IO.Path.GetFileName(full);
    }

    private static unsafe string? RealPath(string path)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        var buffer = new byte[4096];
        fixed (byte* p = bytes)
        fixed (byte* b = buffer)
        {
            if (realpath(p, b) == null)
            {
                return null;
            }
        }

        var length = Array.IndexOf(buffer, (byte)0);
        return System.Text.Encoding.UTF8.GetString(buffer, 0, length < 0 ? buffer.Length : length);
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern unsafe byte* realpath(byte* path, byte* resolved);

    private static PciPassthroughException NotFound(string path, Exception? inner) => ErrorCatalog.RootNotFound(path, inner);
}
