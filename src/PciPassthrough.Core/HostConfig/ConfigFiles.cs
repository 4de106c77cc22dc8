using System.Globalization;
using System.Runtime.InteropServices;
using PciPassthrough.HostFs;

namespace PciPassthrough.HostConfig;

/// <summary>
/// Reads and writes host configuration files under a root. A write is atomic (a temporary file in the
/// same directory, flushed, then renamed over), keeps the file's mode and owner, and first copies the
/// previous content aside, so an interrupted or unwanted change loses nothing.
/// </summary>
public static class ConfigFiles
{
    /// <summary>The planned change of one file; <paramref name="edit"/> gets the current content (null when missing).</summary>
    public static ConfigFileChange Plan(HostRoot root, string hostPath, Func<string?, string> edit) =>
        PlanFile(root.Resolve(hostPath), hostPath, edit, root);

    /// <summary>
    /// The planned change of a file given by its full path; <paramref name="displayPath"/> names it in diffs. A
    /// file that is a link is changed where the link points (within <paramref name="root"/>), so the link stays a
    /// link (D20); the text keeps the file's encoding and byte order mark.
    /// </summary>
    public static ConfigFileChange PlanFile(string full, string displayPath, Func<string?, string> edit, HostRoot? root = null)
    {
        var hostPath = displayPath;
        var target = LinkTarget(full, hostPath);
        string? current = null;
        var form = TextForm.Utf8;
        try
        {
            // Without blocking and bounded: a FIFO or /dev/zero in a file's place is refused by name (D16).
            if (File.Exists(target))
            {
                (current, form) = FileText.Decode(BoundedFile.ReadBytes(target));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ErrorCatalog.ConfigReadFailed(hostPath, e);
        }

        var next = edit(current);
        if (!FileText.CanHold(form, next))
        {
            throw ErrorCatalog.ConfigFileInvalid(hostPath, "is not UTF-8, so it is kept one byte per character (Latin-1), which cannot hold the new content", "Convert it to UTF-8 first (iconv -f latin1 -t utf-8)");
        }

        return new ConfigFileChange(hostPath, target, current, next)
        {
            Root = root,
            Form = form,
            WrittenPath = target == full ? hostPath : root is null ? target : root.ToHostPath(target),
        };
    }

    // The file a link leads to, to be written in place of the link; the path itself when it is no link.
    private static string LinkTarget(string full, string hostPath)
    {
        FileSystemInfo? target;
        try
        {
            target = new FileInfo(full).LinkTarget is null ? null : File.ResolveLinkTarget(full, returnFinalTarget: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ErrorCatalog.ConfigReadFailed(hostPath, e);
        }

        if (target is null)
        {
            return full;
        }

        if (!File.Exists(target.FullName))
        {
            throw ErrorCatalog.ConfigFileInvalid(hostPath, $"is a link to {target.FullName}, which is not a file", "Point the link at the file, or put the file in the link's place");
        }

        return target.FullName;
    }

    /// <summary>
    /// Checks that every changed file's directory exists (or can be made in an existing parent) and is
    /// writable, so that a run fails before its first write rather than half-way.
    /// </summary>
    public static void EnsureWritable(IEnumerable<ConfigFileChange> changes)
    {
        foreach (var change in changes.Where(c => c.Action != FileAction.Unchanged))
        {
            change.Root?.EnsureWithin(change.FullPath);
            var dir = Path.GetDirectoryName(change.FullPath)!;
            var existing = Directory.Exists(dir) ? dir : Path.GetDirectoryName(dir)!;
            if (!Directory.Exists(existing))
            {
                throw ErrorCatalog.ConfigDirectoryMissing(change.Path, Path.GetDirectoryName(Path.GetDirectoryName(change.Path)));
            }

            if (!CanWrite(existing))
            {
                throw ErrorCatalog.ConfigDirectoryReadOnly(change.Path);
            }
        }
    }

    private static unsafe bool CanWrite(string directory)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(directory + "\0");
        fixed (byte* p = bytes)
        {
            return access(p, 2) == 0; // W_OK; also reports a read-only filesystem
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern unsafe int access(byte* path, int mode);

    /// <summary>Writes a planned change (nothing for an unchanged file) and returns it with its backup.</summary>
    public static ConfigFileChange Apply(ConfigFileChange change, DateTime now) => ApplyAll([change], now)[0];

    /// <summary>
    /// Writes the planned changes of one call as a set: all of them or none (<see cref="ConfigTransaction"/>).
    /// </summary>
    public static IReadOnlyList<ConfigFileChange> ApplyAll(IReadOnlyList<ConfigFileChange> changes, DateTime now) =>
        ConfigTransaction.Run(changes, now);

    // A rewritten file keeps its mode and owner; a new one gets 0644 root-style defaults.
    internal static void CopyOwnership(string original, string temp)
    {
        var stat = FileOwnership.Read(original);
        if (stat is null)
        {
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            return;
        }

        File.SetUnixFileMode(temp, (UnixFileMode)(stat.Mode & 0xfff));
        Chown(temp, stat.Uid, stat.Gid);
    }

    private static unsafe void Chown(string path, int uid, int gid)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            _ = chown(p, uid, gid);
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern unsafe int chown(byte* path, int owner, int group);
}
