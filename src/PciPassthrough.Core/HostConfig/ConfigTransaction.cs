using System.Globalization;
using PciPassthrough.HostFs;

namespace PciPassthrough.HostConfig;

/// <summary>
/// Writes the configuration files of one call as a set (D5). First every file is prepared: its
/// directory made, its previous content kept as a backup (a hard link, so a full disk cannot leave a
/// truncated one), its new content written to a temp file with a random name created exclusively and
/// flushed. Only when every file is prepared is each renamed into place. A failure while preparing
/// removes what was prepared (nothing was changed); a failure while renaming puts the files already
/// replaced back from their backups, so the host is left as it was.
/// </summary>
internal static class ConfigTransaction
{
    public static IReadOnlyList<ConfigFileChange> Run(IReadOnlyList<ConfigFileChange> changes, DateTime now)
    {
        var work = changes.Where(c => c.Action != FileAction.Unchanged).Select(c => new Pending(c)).ToList();
        try
        {
            foreach (var p in work)
            {
                Prepare(p, now);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PciPassthroughException)
        {
            Discard(work);
            if (e is PciPassthroughException known)
            {
                throw known;
            }

            var failed = work.First(p => !p.Prepared).Change;
            throw ErrorCatalog.ConfigWriteFailed(failed.Path, e);
        }

        var replaced = new List<Pending>();
        foreach (var p in work)
        {
            try
            {
                File.Move(p.Temp!, p.Change.FullPath, overwrite: true);
                replaced.Add(p);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                var unrestored = Restore(replaced);
                Discard(work);
                throw unrestored.Count == 0
                    ? ErrorCatalog.ConfigurationWriteUndone(p.Change.Path, e.Message, replaced.Select(r => r.Change.Path).ToList(), e)
                    : ErrorCatalog.ConfigurationPartiallyRestored(p.Change.Path, e.Message, unrestored, e);
            }
        }

        foreach (var p in work)
        {
            p.Change.Backup = p.BackupHostPath;
        }

        return changes;
    }

    private static void Prepare(Pending p, DateTime now)
    {
        var change = p.Change;
        var dir = Path.GetDirectoryName(change.FullPath)!;
        change.Root?.EnsureWithin(change.FullPath);
        if (!Directory.Exists(dir))
        {
            if (!Directory.Exists(Path.GetDirectoryName(dir)))
            {
                throw new DirectoryNotFoundException($"{Path.GetDirectoryName(change.Path)} does not exist");
            }

            Directory.CreateDirectory(dir);
            p.CreatedDirectory = dir;
        }

        if (change.OldContent is not null && File.Exists(change.FullPath))
        {
            Backup(p, now);
        }

        p.Temp = Path.Combine(dir, $".{Path.GetFileName(change.FullPath)}.pcipt-{Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8))}.tmp");
        WriteNew(p.Temp, FileText.Encode(change.NewContent, change.Form));
        ConfigFiles.CopyOwnership(change.FullPath, p.Temp);
        p.Prepared = true;
    }

    // Never overwrite an earlier backup: two changes in one second keep both previous contents. A hard
    // link is exact (bytes, mode, owner) and needs no space; a filesystem without links gets a copy,
    // removed again when it cannot be completed.
    private static void Backup(Pending p, DateTime now)
    {
        var full = p.Change.FullPath;
        var stamp = now.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        for (var n = 0; ; n++)
        {
            var suffix = n == 0 ? "" : "-" + n.ToString(CultureInfo.InvariantCulture);
            var backup = $"{full}.{stamp}{suffix}.pcipt.bak";
            var errno = NativeFile.TryLink(full, backup);
            if (errno == 17) // EEXIST
            {
                continue;
            }

            if (errno != 0)
            {
                if (File.Exists(backup) || Directory.Exists(backup))
                {
                    continue;
                }

                WriteNew(backup, BoundedFile.ReadBytes(full));
                ConfigFiles.CopyOwnership(full, backup);
            }

            p.Backup = backup;
            p.BackupHostPath = $"{p.Change.WrittenPath ?? p.Change.Path}.{stamp}{suffix}.pcipt.bak";
            return;
        }
    }

    // O_CREAT|O_EXCL|O_NOFOLLOW: a name planted in advance (a link to elsewhere) is never written
    // through. A partial file (a full disk) is removed before the error is reported.
    private static void WriteNew(string path, byte[] bytes)
    {
        var handle = NativeFile.Open(path, NativeFile.WriteOnly | NativeFile.Create | NativeFile.Exclusive, 0b110_000_000);
        try
        {
            using (handle)
            using (var stream = new FileStream(handle, FileAccess.Write, bufferSize: 0))
            {
                stream.Write(bytes, 0, bytes.Length);
                stream.Flush(flushToDisk: true);
            }
        }
        catch
        {
            TryDelete(path);
            throw;
        }
    }

    // Puts back every file already replaced, newest first: a backup is renamed back over its file (the
    // original inode, so content, mode and owner are exact), a new file is removed. Returns the files
    // that could not be put back.
    private static List<string> Restore(List<Pending> replaced)
    {
        var failed = new List<string>();
        foreach (var p in Enumerable.Reverse(replaced))
        {
            try
            {
                if (p.Backup is not null)
                {
                    File.Move(p.Backup, p.Change.FullPath, overwrite: true);
                    p.Backup = null;
                }
                else
                {
                    File.Delete(p.Change.FullPath);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failed.Add(p.BackupHostPath is null ? $"{p.Change.Path} (new; delete it)" : $"{p.Change.Path} (its previous content is in {p.BackupHostPath})");
                p.Backup = null; // the backup is the only copy now: keep it
            }
        }

        return failed;
    }

    // Removes what preparing made and no file refers to any more: temp files, backups of files left as
    // they were, directories made for new files.
    private static void Discard(List<Pending> work)
    {
        foreach (var p in work)
        {
            TryDelete(p.Temp);
            TryDelete(p.Backup);
            if (p.CreatedDirectory is not null && Directory.Exists(p.CreatedDirectory) && !Directory.EnumerateFileSystemEntries(p.CreatedDirectory).Any())
            {
                try
                {
                    Directory.Delete(p.CreatedDirectory);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // An empty directory left behind changes no configuration.
                }
            }
        }
    }

    private static void TryDelete(string? path)
    {
        if (path is null)
        {
            return;
        }

        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The write's own failure is the one to report.
        }
    }

    private sealed class Pending(ConfigFileChange change)
    {
        public ConfigFileChange Change { get; } = change;

        public string? Temp { get; set; }

        public string? Backup { get; set; }

        public string? BackupHostPath { get; set; }

        public string? CreatedDirectory { get; set; }

        public bool Prepared { get; set; }
    }
}
