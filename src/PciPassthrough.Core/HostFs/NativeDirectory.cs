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
    private int _fd;

    private NativeDirectory(int fd) => _fd = fd;

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

                    if (n == 0)
                    {
                        break;
                    }

                    total += n;
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
    }
}
