using PciPassthrough.HostFs;

namespace PciPassthrough.Binding;

/// <summary>Where a device was before the module moved it: its driver and driver_override (null when none).</summary>
public sealed record DeviceOrigin(string Address, string? Driver, string? Override)
{
    // Fields are escaped: a driver_override holding a tab or a newline must not break its line.
    internal string Serialize() => $"{Escape(Address)}\t{Escape(Driver)}\t{Escape(Override)}";

    internal static DeviceOrigin? Parse(string line)
    {
        var f = line.Split('\t');
        if (f.Length != 3 || Unescape(f[1]) is not { } driver || Unescape(f[2]) is not { } over)
        {
            return null;
        }

        return PciAddress.TryParse(f[0], out var a) && a.ToString() == f[0]
            ? new DeviceOrigin(f[0], driver.Length == 0 ? null : driver, over.Length == 0 ? null : over)
            : null;
    }

    private static string Escape(string? value) =>
        (value ?? "").Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal);

    private static string? Unescape(string value)
    {
        var sb = new System.Text.StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] != '\\')
            {
                sb.Append(value[i]);
                continue;
            }

            if (++i == value.Length)
            {
                return null;
            }

            switch (value[i])
            {
                case '\\': sb.Append('\\'); break;
                case 't': sb.Append('\t'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                default: return null;
            }
        }

        return sb.ToString();
    }
}

/// <summary>
/// What the binder keeps under /run/pcipassthrough (runtime state: a reboot resets the devices too).
/// The journal lists every device of a transaction with its origin BEFORE the first write, so a caller
/// that finds one left behind (its writer died) can put each device back. The origins of bound devices
/// tell Remove-VfioBinding which driver each had.
/// </summary>
public sealed class BindingState
{
    public const string Directory = "/run/pcipassthrough";
    private readonly HostRoot _root;

    public BindingState(HostRoot root) => _root = root;

    private string JournalPath => _root.Resolve(Directory + "/journal");

    private string VfJournalPath => _root.Resolve(Directory + "/vf-journal");

    private string OriginPath(string address) => _root.Resolve($"{Directory}/origins/{address}");

    private string StateDirectory => _root.Resolve(Directory);

    private string OriginsDirectory => _root.Resolve(Directory + "/origins");

    /// <summary>The journal file under the root, for messages.</summary>
    public string JournalFile => JournalPath;

    /// <summary>
    /// The devices of an unfinished transaction; empty when the last one finished. A journal that cannot
    /// be read, or has a line that is not a device's origin, is an error naming the file: skipping it
    /// would leave that transaction's devices wherever it died.
    /// </summary>
    public IReadOnlyList<DeviceOrigin> ReadJournal()
    {
        var path = JournalPath;
        string[] lines;
        try
        {
            Checked(path);
            if (!File.Exists(path) && !System.IO.Directory.Exists(path) && new FileInfo(path).LinkTarget is null)
            {
                return [];
            }

            lines = File.ReadAllText(path).Split('\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unreadable(path, e.Message, e);
        }

        var origins = new List<DeviceOrigin>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0)
            {
                continue;
            }

            origins.Add(DeviceOrigin.Parse(lines[i]) ?? throw Unreadable(path, $"line {i + 1} is not '<address>TAB<driver>TAB<driver_override>': '{lines[i]}'", null));
        }

        return origins;
    }

    public void WriteJournal(IEnumerable<DeviceOrigin> origins) => WriteAtomically(Checked(JournalPath), origins.Select(o => o.Serialize()));

    /// <summary>Set-PciVirtualFunction's journal: the VF attributes to restore should its call die half-way.</summary>
    public string VfJournalFile => VfJournalPath;

    /// <summary>The VF journal's lines; empty when there is none. An unreadable file is an IOException for the caller to name.</summary>
    public IReadOnlyList<string> ReadVfJournal()
    {
        var path = Checked(VfJournalPath);
        return File.Exists(path) || new FileInfo(path).LinkTarget is not null ? File.ReadAllText(path).Split('\n', StringSplitOptions.RemoveEmptyEntries) : [];
    }

    public void WriteVfJournal(IEnumerable<string> lines) => WriteAtomically(Checked(VfJournalPath), lines);

    public void ClearVfJournal() => File.Delete(Checked(VfJournalPath));

    public void ClearJournal() => File.Delete(Checked(JournalPath));

    public DeviceOrigin? ReadOrigin(string address) => ReadLines(Checked(OriginPath(address))).FirstOrDefault();

    public void SaveOrigin(DeviceOrigin origin) => WriteAtomically(Checked(OriginPath(origin.Address)), [origin.Serialize()]);

    public void ForgetOrigin(string address) => File.Delete(Checked(OriginPath(address)));

    // The state directories must be real directories: through a link, a write, rename or delete would
    // land wherever the link points (outside a captured root, or anywhere on the live host).
    private string Checked(string path)
    {
        foreach (var dir in new[] { StateDirectory, OriginsDirectory })
        {
            if (path.StartsWith(dir + "/", StringComparison.Ordinal) && new FileInfo(dir).LinkTarget is { } target)
            {
                throw ErrorCatalog.StateDirectoryUnsafe(dir, target);
            }
        }

        _root.EnsureWithin(path);
        return path;
    }

    private static PciPassthroughException Unreadable(string path, string why, Exception? inner) => ErrorCatalog.JournalUnreadable(path, why, inner);

    private static List<DeviceOrigin> ReadLines(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllLines(path).Select(DeviceOrigin.Parse).OfType<DeviceOrigin>().ToList() : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    // A temp file in the same directory, flushed to disk, then renamed over: a crash leaves the old
    // content or the new one, never half of either. The temp name is random and created exclusively
    // (O_CREAT|O_EXCL), so a link planted at a guessable name is never followed.
    private static void WriteAtomically(string path, IEnumerable<string> lines)
    {
        var directory = Path.GetDirectoryName(path)!;
        System.IO.Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8))}.tmp");
        var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write);
        try
        {
            using (stream)
            using (var writer = new StreamWriter(stream))
            {
                foreach (var line in lines)
                {
                    writer.Write(line + "\n");
                }

                writer.Flush();
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(temp);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The write's own failure is the one to report; a stray temp file is harmless.
            }

            throw;
        }
    }
}
