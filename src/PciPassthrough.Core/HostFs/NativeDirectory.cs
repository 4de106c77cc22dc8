using System.Runtime.InteropServices;
using System.Text;

namespace PciPassthrough.HostFs;

/// <summary>
/// An open directory whose files are read relative to its descriptor (openat, readlinkat).
/// Why not File.ReadAllText: a host inventory reads ~17 tiny sysfs files per device, and building a
/// path string plus a FileStream for each one costs more than the reads themselves on large SR-IOV hosts.
/// Every method reports failure by its return value; nothing here throws for a missing or odd file.
/// </summary>
internal sealed unsafe class NativeDirectory : IDisposable
{
    private const int AtFdCwd = -100;
    private const int OpenReadOnly = 0;
    private const int OpenCloseOnExec = 0x80000;
    private const int AtSymlinkNoFollow = 0x100;
    private const int FcntlDupCloseOnExec = 1030;
    private const int DirentNameOffset = 19;
    private const int NoSuchEntry = 2;
    private int _fd;

    private NativeDirectory(int fd) => _fd = fd;

    /// <summary>Receives one directory entry's name, valid only during the call.</summary>
    public delegate void NameVisitor(ReadOnlySpan<byte> name);

    /// <summary>A name with whether readdir says it is something other than a folder or a link (a plain file, a FIFO, a device).</summary>
    public delegate void EntryVisitor(ReadOnlySpan<byte> name, bool notFolderOrLink);

    /// <summary>Opens a directory; null when it does not exist or cannot be opened.</summary>
    public static NativeDirectory? Open(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            var fd = Native.openat(AtFdCwd, p, OpenReadOnly | OpenCloseOnExec, 0);
            return fd < 0 ? null : new NativeDirectory(fd);
        }
    }

    /// <summary>Opens a subdirectory by name (no path string is built); null when it cannot be opened.</summary>
    public NativeDirectory? OpenChild(ReadOnlySpan<char> name)
    {
        Span<byte> z = stackalloc byte[256];
        var n = Encoding.UTF8.GetBytes(name, z[..255]);
        z[n] = 0;
        fixed (byte* p = z)
        {
            var fd = Native.openat(_fd, p, OpenReadOnly | OpenCloseOnExec, 0);
            return fd < 0 ? null : new NativeDirectory(fd);
        }
    }

    /// <summary>Reads a file below this directory into <paramref name="buffer"/>; -1 when it cannot be read.</summary>
    public int ReadFile(ReadOnlySpan<byte> nulTerminatedName, Span<byte> buffer)
    {
        fixed (byte* name = nulTerminatedName)
        fixed (byte* buf = buffer)
        {
            var fd = Native.openat(_fd, name, OpenReadOnly | OpenCloseOnExec, 0);
            if (fd < 0)
            {
                return -1;
            }

            try
            {
                var total = 0;
                while (total < buffer.Length)
                {
                    var n = (int)Native.read(fd, buf + total, buffer.Length - total);
                    if (n < 0)
                    {
                        return -1;
                    }

                    total += n;

                    // A short read is the end: sysfs hands an attribute over in one read, and a file on disk or tmpfs
                    // falls short only at its end. Not asking again saves a read per file.
                    if (n == 0 || total < buffer.Length)
                    {
                        break;
                    }
                }

                return total;
            }
            finally
            {
                _ = Native.close(fd);
            }
        }
    }

    /// <summary>Reads a symbolic link's target; -1 when the entry is missing or not a link.</summary>
    public int ReadLink(ReadOnlySpan<byte> nulTerminatedName, Span<byte> buffer)
    {
        fixed (byte* name = nulTerminatedName)
        fixed (byte* buf = buffer)
        {
            var n = (int)Native.readlinkat(_fd, name, buf, buffer.Length);
            return n >= buffer.Length ? -1 : n;
        }
    }

    /// <summary>
    /// Calls <paramref name="visit"/> with each entry's name (not "." or ".."), unsorted, from readdir: no path string
    /// and no stat per entry (.NET's enumeration stats every symbolic link, and sysfs device folders are links).
    /// False when the folder cannot be listed (or this platform's dirent layout is not known); the caller then
    /// lists it the managed way, for its error.
    /// </summary>
    public bool ForEachName(NameVisitor visit) => ForEachEntry((name, _) => visit(name));

    /// <summary>As <see cref="ForEachName(NameVisitor)"/>, with each entry's type from readdir's d_type (no stat).</summary>
    public bool ForEachEntry(EntryVisitor visit)
    {
        // readdir on a duplicate: closedir closes the descriptor fdopendir took, and this one stays open.
        var dup = Native.fcntl(_fd, FcntlDupCloseOnExec, 0);
        if (dup < 0)
        {
            return false;
        }

        _ = Native.lseek(dup, 0, 0);
        return ForEachName(dup, visit);
    }

    /// <summary>
    /// As <see cref="ForEachName(NameVisitor)"/> for a subfolder; false when it cannot be opened as a folder, with
    /// <paramref name="missing"/> true when nothing by that name could be followed to (ENOENT: no entry, or a dangling link).
    /// </summary>
    public bool ForEachChildName(ReadOnlySpan<byte> nulTerminatedName, NameVisitor visit, out bool missing)
    {
        fixed (byte* name = nulTerminatedName)
        {
            // No O_DIRECTORY (its value differs between architectures): fdopendir refuses what is not a folder.
            var fd = Native.openat(_fd, name, OpenReadOnly | OpenCloseOnExec, 0);
            missing = fd < 0 && Marshal.GetLastPInvokeError() == NoSuchEntry;
            return fd >= 0 && ForEachName(fd, (n, _) => visit(n));
        }
    }

    /// <summary>The sorted (ordinal) names in a subfolder; null when it cannot be listed this way (see <see cref="ForEachChildName"/>).</summary>
    public string[]? ChildNames(ReadOnlySpan<byte> nulTerminatedName, out bool missing)
    {
        var names = new List<string>();
        if (!ForEachChildName(nulTerminatedName, n => names.Add(Encoding.UTF8.GetString(n)), out missing))
        {
            return null;
        }

        var sorted = names.ToArray();
        Array.Sort(sorted, StringComparer.Ordinal);
        return sorted;
    }

    // Takes the descriptor: closed here whatever happens.
    private static bool ForEachName(int fd, EntryVisitor visit)
    {
        // The dirent layout below is Linux's on 64-bit (glibc and musl alike).
        var dir = OperatingSystem.IsLinux() && IntPtr.Size == 8 ? Native.fdopendir(fd) : 0;
        if (dir == 0)
        {
            _ = Native.close(fd);
            return false;
        }

        try
        {
            while (true)
            {
                var entry = Native.readdir(dir);
                if (entry == null)
                {
                    return true;
                }

                // struct dirent: d_ino (8), d_off (8), d_reclen (2), d_type (1), then the name, NUL-terminated.
                var name = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(entry + DirentNameOffset);
                if (name.SequenceEqual("."u8) || name.SequenceEqual(".."u8))
                {
                    continue;
                }

                // d_type: DT_UNKNOWN (0, some filesystems), DT_DIR (4) and DT_LNK (10) may be a device folder.
                var type = entry[DirentNameOffset - 1];
                visit(name, type is not (0 or 4 or 10));
            }
        }
        finally
        {
            _ = Native.closedir(dir);
        }
    }

    /// <summary>True when the entry exists (a dangling link counts as existing).</summary>
    public bool Exists(ReadOnlySpan<byte> nulTerminatedName)
    {
        fixed (byte* name = nulTerminatedName)
        {
            return Native.faccessat(_fd, name, 0, AtSymlinkNoFollow) == 0;
        }
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            _ = Native.close(_fd);
            _fd = -1;
        }
    }

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
        public static extern int openat(int dirfd, byte* path, int flags, int mode);

        [DllImport("libc", SetLastError = true)]
        public static extern nint read(int fd, byte* buf, nint count);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);

        [DllImport("libc", SetLastError = true)]
        public static extern nint readlinkat(int dirfd, byte* path, byte* buf, nint bufsiz);

        [DllImport("libc", SetLastError = true)]
        public static extern int faccessat(int dirfd, byte* path, int mode, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int fcntl(int fd, int cmd, int arg);

        [DllImport("libc", SetLastError = true)]
        public static extern long lseek(int fd, long offset, int whence);

        [DllImport("libc", SetLastError = true)]
        public static extern nint fdopendir(int fd);

        [DllImport("libc", SetLastError = true)]
        public static extern byte* readdir(nint dir);

        [DllImport("libc", SetLastError = true)]
        public static extern int closedir(nint dir);
    }
}
