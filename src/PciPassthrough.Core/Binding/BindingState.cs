using PciPassthrough.HostFs;

namespace PciPassthrough.Binding;

/// <summary>Where a device was before the module moved it: its driver and driver_override (null when none).</summary>
public sealed record DeviceOrigin(string Address, string? Driver, string? Override)
{
    internal string Serialize() => $"{Address}\t{Driver}\t{Override}";

    internal static DeviceOrigin? Parse(string line)
    {
        var f = line.Split('\t');
        return f.Length == 3 && PciAddress.TryParse(f[0], out var a) && a.ToString() == f[0]
            ? new DeviceOrigin(f[0], f[1].Length == 0 ? null : f[1], f[2].Length == 0 ? null : f[2])
            : null;
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

    private string OriginPath(string address) => _root.Resolve($"{Directory}/origins/{address}");

    /// <summary>The devices of an unfinished transaction; empty when the last one finished.</summary>
    public IReadOnlyList<DeviceOrigin> ReadJournal() => ReadLines(JournalPath);

    public void WriteJournal(IEnumerable<DeviceOrigin> origins)
    {
        _root.EnsureWithin(JournalPath);
        WriteAtomically(JournalPath, origins);
    }

    public void ClearJournal() => File.Delete(JournalPath);

    public DeviceOrigin? ReadOrigin(string address) => ReadLines(OriginPath(address)).FirstOrDefault();

    public void SaveOrigin(DeviceOrigin origin)
    {
        _root.EnsureWithin(OriginPath(origin.Address));
        WriteAtomically(OriginPath(origin.Address), [origin]);
    }

    public void ForgetOrigin(string address) => File.Delete(OriginPath(address));

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
    // content or the new one, never half of either.
    private static void WriteAtomically(string path, IEnumerable<DeviceOrigin> origins)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        using (var writer = new StreamWriter(stream))
        {
            foreach (var o in origins)
            {
                writer.Write(o.Serialize() + "\n");
            }

            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }
}
