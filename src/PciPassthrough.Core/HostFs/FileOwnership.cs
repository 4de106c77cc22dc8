using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace PciPassthrough.HostFs;

/// <summary>Owner, group and mode of a file, read with statx (its layout is the same on every architecture).</summary>
internal sealed record FileOwnership(int Uid, int Gid, int Mode)
{
    private const int AtFdCwd = -100;
    private const uint StatxBasicStats = 0x7ff;

    /// <summary>The permission bits as four octal digits, e.g. <c>0660</c>.</summary>
    public string OctalMode => Convert.ToString(Mode & 0xfff, 8).PadLeft(4, '0');

    /// <summary>The file type bits of <see cref="Mode"/> say a regular file (not a directory, FIFO, device or link).</summary>
    public bool IsRegularFile => (Mode & 0xf000) == 0x8000;

    public static FileOwnership? Read(string path) => Read(AtFdCwd, path, 0);

    /// <summary>The ownership of an open file (fstat): what was opened, not what the name points at now.</summary>
    public static FileOwnership? Read(Microsoft.Win32.SafeHandles.SafeFileHandle handle) => Read((int)handle.DangerousGetHandle(), "", AtEmptyPath);

    private const int AtEmptyPath = 0x1000;

    private static unsafe FileOwnership? Read(int dirfd, string path, int flags)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        Span<byte> buffer = stackalloc byte[256];
        fixed (byte* p = bytes)
        fixed (byte* b = buffer)
        {
            if (statx(dirfd, p, flags, StatxBasicStats, b) != 0)
            {
                return null;
            }
        }

        // struct statx: stx_uid at 20, stx_gid at 24, stx_mode (u16) at 28.
        return new FileOwnership(
            BinaryPrimitives.ReadInt32LittleEndian(buffer[20..]),
            BinaryPrimitives.ReadInt32LittleEndian(buffer[24..]),
            BinaryPrimitives.ReadUInt16LittleEndian(buffer[28..]));
    }

    /// <summary>A name from an /etc/passwd- or /etc/group-shaped file (<c>name:x:id:...</c>), or the number.</summary>
    public static string NameFor(HostRoot root, string database, int id)
    {
        foreach (var line in (root.TryReadText(database) ?? "").Split('\n'))
        {
            var fields = line.Split(':');
            if (fields.Length > 2 && fields[2] == id.ToString(CultureInfo.InvariantCulture))
            {
                return fields[0];
            }
        }

        return id.ToString(CultureInfo.InvariantCulture);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern unsafe int statx(int dirfd, byte* path, int flags, uint mask, byte* buffer);
}
