using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace PciPassthrough.HostFs;

/// <summary>
/// open(2), write(2) and flock(2) with the flags .NET does not offer: O_NOFOLLOW (a planted link at the
/// final component is refused, not followed) and a flock whose errno tells "busy" from every other
/// failure. Errors surface as IOException (errno in HResult) or UnauthorizedAccessException.
/// </summary>
internal static unsafe class NativeFile
{
    public const int WriteOnly = 0x1;
    public const int ReadWrite = 0x2;
    public const int Create = 0x40;
    public const int Truncate = 0x200;
    public const int Exclusive = 0x80;
    public const int CloseOnExec = 0x80000;
    public const int WouldBlock = 11; // EAGAIN == EWOULDBLOCK on Linux

    private const int LockExclusive = 2;
    private const int LockNonBlocking = 4;
    private const int Interrupted = 4;

    // O_NOFOLLOW is the one flag here whose value differs between Linux's x86 and Arm ABIs.
    public static int NoFollow => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;

    /// <summary>
    /// Opens a file for reading without blocking: a FIFO in a captured tree opens at once (and reads as
    /// empty) instead of hanging the open until a writer comes. Links are followed, as for any read.
    /// </summary>
    public static SafeFileHandle OpenForReadingNonBlocking(string path)
    {
        const int NonBlocking = 0x800; // O_NONBLOCK, the same on Linux's x86 and Arm ABIs
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* p = bytes)
        {
            do
            {
                fd = open(p, NonBlocking | CloseOnExec, 0);
            }
            while (fd < 0 && Marshal.GetLastPInvokeError() == Interrupted);
        }

        return fd < 0 ? throw Error(Marshal.GetLastPInvokeError(), path) : new SafeFileHandle(fd, ownsHandle: true);
    }

    public static SafeFileHandle Open(string path, int flags, int mode = 0)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* p = bytes)
        {
            do
            {
                fd = open(p, flags | CloseOnExec | NoFollow, mode);
            }
            while (fd < 0 && Marshal.GetLastPInvokeError() == Interrupted);
        }

        if (fd < 0)
        {
            throw Error(Marshal.GetLastPInvokeError(), path);
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>One write(2) of the whole value, as the kernel's sysfs attributes expect.</summary>
    public static void Write(SafeFileHandle handle, byte[] bytes, string path)
    {
        var done = 0;
        while (done < bytes.Length)
        {
            nint n;
            fixed (byte* b = bytes)
            {
                n = write((int)handle.DangerousGetHandle(), b + done, bytes.Length - done);
            }

            if (n < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Interrupted)
                {
                    continue;
                }

                throw Error(errno, path);
            }

            done += (int)n;
        }
    }

    /// <summary>flock(LOCK_EX|LOCK_NB): 0 when taken, else the errno (<see cref="WouldBlock"/> when another holds it).</summary>
    public static int TryLockExclusive(SafeFileHandle handle)
    {
        while (true)
        {
            if (flock((int)handle.DangerousGetHandle(), LockExclusive | LockNonBlocking) == 0)
            {
                return 0;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != Interrupted)
            {
                return errno;
            }
        }
    }

    public static Exception Error(int errno, string path)
    {
        var text = $"{Marshal.GetPInvokeErrorMessage(errno)} ('{path}')";
        return errno switch
        {
            1 or 13 => new UnauthorizedAccessException(text), // EPERM, EACCES
            2 => new FileNotFoundException(text, path) { HResult = errno }, // ENOENT: callers say "not found"
            _ => new IOException(text, errno),
        };
    }

    /// <summary>link(2): a second name for a file, failing when the new name exists; 0 or the errno.</summary>
    public static int TryLink(string existing, string newPath)
    {
        var from = System.Text.Encoding.UTF8.GetBytes(existing + "\0");
        var to = System.Text.Encoding.UTF8.GetBytes(newPath + "\0");
        fixed (byte* f = from)
        fixed (byte* t = to)
        {
            return link(f, t) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int link(byte* existing, byte* newPath);

    [DllImport("libc", SetLastError = true)]
    private static extern int open(byte* path, int flags, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern nint write(int fd, byte* buf, nint count);

    [DllImport("libc", SetLastError = true)]
    private static extern int flock(int fd, int operation);
}
