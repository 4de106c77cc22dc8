namespace PciPassthrough.HostFs;

/// <summary>
/// Reads a text file a user named or a configuration file the module edits: opened without blocking
/// (a FIFO never hangs the open), checked to be a regular file on the open handle (a FIFO, a device
/// node such as /dev/zero, a directory are refused by name), and read only up to a limit (a huge file
/// is refused, not loaded). Failures are IOException with a message naming the file and the cause.
/// </summary>
public static class BoundedFile
{
    /// <summary>The default limit: far above any configuration file, pci.conf, template or inventory.</summary>
    public const int DefaultMaxBytes = HostRoot.MaxTextBytes;

    /// <summary>The UTF-8 byte order mark, which File.ReadAllText does not count as part of the text.</summary>
    internal static ReadOnlySpan<byte> Utf8ByteOrderMark => [0xEF, 0xBB, 0xBF];

    public static string ReadText(string path, int maxBytes = DefaultMaxBytes, bool regularFilesOnly = true)
    {
        var bytes = ReadBytes(path, maxBytes, regularFilesOnly);
        var start = bytes.AsSpan().StartsWith(Utf8ByteOrderMark) ? Utf8ByteOrderMark.Length : 0;
        return System.Text.Encoding.UTF8.GetString(bytes, start, bytes.Length - start);
    }

    public static byte[] ReadBytes(string path, int maxBytes = DefaultMaxBytes, bool regularFilesOnly = true)
    {
        using var handle = NativeFile.OpenForReadingNonBlocking(path);
        var stat = regularFilesOnly ? FileOwnership.Read(handle) : null;
        if (stat is not null && !stat.IsRegularFile)
        {
            throw new IOException($"'{path}' is not a regular file ({Kind(stat.Mode)}); give a file that holds the text itself.");
        }

        using var stream = new FileStream(handle, FileAccess.Read, bufferSize: 0);
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + n > maxBytes)
            {
                throw new IOException($"'{path}' is larger than {maxBytes / (1 << 20)} MiB, far more than such a file ever holds; check that it is the right file.");
            }

            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }

    private static string Kind(int mode) => (mode & 0xf000) switch
    {
        0x1000 => "a FIFO",
        0x2000 => "a character device",
        0x6000 => "a block device",
        0x4000 => "a directory",
        0xc000 => "a socket",
        _ => "not a plain file",
    };
}
