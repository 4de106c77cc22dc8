using System.Globalization;
using System.Text;

namespace PciPassthrough.Vfio;

/// <summary>
/// Finds the processes that hold <c>/dev/vfio/&lt;group&gt;</c> open (a running guest does), by reading
/// <c>/proc/*/fd</c> links under the host root. Processes that vanish or cannot be read are skipped.
/// </summary>
public static class VfioUsageScanner
{
    private const string VfioPrefix = "/dev/vfio/";

    /// <summary>Group number to the processes holding it; empty when no group device node exists.</summary>
    public static IReadOnlyDictionary<int, VfioUser[]> Scan(HostFs.HostRoot root)
    {
        var result = new Dictionary<int, List<VfioUser>>();
        if (!AnyGroupNode(root.Resolve("/dev/vfio")))
        {
            return new Dictionary<int, VfioUser[]>();
        }

        IEnumerable<string> processes;
        try
        {
            processes = Directory.EnumerateDirectories(root.Resolve("/proc"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new Dictionary<int, VfioUser[]>();
        }

        foreach (var processDir in processes)
        {
            if (!int.TryParse(Path.GetFileName(processDir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            foreach (var group in GroupsHeldBy(processDir))
            {
                if (!result.TryGetValue(group, out var users))
                {
                    users = [];
                    result[group] = users;
                }

                if (!users.Exists(u => u.ProcessId == pid))
                {
                    users.Add(new VfioUser(pid, ReadComm(processDir), ReadOpenNebulaVmId(processDir)));
                }
            }
        }

        return result.ToDictionary(kv => kv.Key, kv => kv.Value.OrderBy(u => u.ProcessId).ToArray());
    }

    private static bool AnyGroupNode(string vfioDir)
    {
        try
        {
            return Directory.Exists(vfioDir)
                && Directory.EnumerateFileSystemEntries(vfioDir).Any(p => int.TryParse(Path.GetFileName(p), NumberStyles.None, CultureInfo.InvariantCulture, out _));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static HashSet<int> GroupsHeldBy(string processDir)
    {
        var groups = new HashSet<int>();
        foreach (var target in FdTargets(processDir))
        {
            if (target.StartsWith(VfioPrefix, StringComparison.Ordinal)
                && int.TryParse(target.AsSpan(VfioPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var group))
            {
                groups.Add(group);
            }
        }

        return groups;
    }

    /// <summary>
    /// The processes holding a VFIO device fd (<c>anon_inode:[vfio-device]</c>). Such a fd outlives the group fd it
    /// came from, and while it is open the kernel blocks the device's removal; which device it is, the kernel does
    /// not say (before 6.9), so these are the candidates to name when a removal blocks.
    /// </summary>
    public static IReadOnlyList<VfioUser> DeviceFdHolders(HostFs.HostRoot root)
    {
        var holders = new List<VfioUser>();
        try
        {
            foreach (var processDir in Directory.EnumerateDirectories(root.Resolve("/proc")))
            {
                if (int.TryParse(Path.GetFileName(processDir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                    && FdTargets(processDir).Contains("anon_inode:[vfio-device]"))
                {
                    holders.Add(new VfioUser(pid, ReadComm(processDir), ReadOpenNebulaVmId(processDir)));
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No /proc under this root: no holder can be named.
        }

        return holders.OrderBy(u => u.ProcessId).ToList();
    }

    private static List<string> FdTargets(string processDir)
    {
        var targets = new List<string>();
        try
        {
            foreach (var fd in Directory.EnumerateFileSystemEntries(Path.Combine(processDir, "fd")))
            {
                try
                {
                    if (new FileInfo(fd).LinkTarget is string target)
                    {
                        targets.Add(target);
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // The fd closed meanwhile.
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another user's process (we are not root) or one that just exited.
        }

        return targets;
    }

    private static string ReadComm(string processDir)
    {
        try
        {
            return File.ReadAllText(Path.Combine(processDir, "comm")).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>OpenNebula starts guests as <c>qemu ... -name guest=one-42,debug-threads=on</c>.</summary>
    internal static int? ReadOpenNebulaVmId(string processDir)
    {
        string[] args;
        try
        {
            args = Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(processDir, "cmdline"))).Split('\0');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        for (var i = 0; i + 1 < args.Length; i++)
        {
            if (args[i] is not ("-name" or "--name"))
            {
                continue;
            }

            foreach (var part in args[i + 1].Split(','))
            {
                var value = part.StartsWith("guest=", StringComparison.Ordinal) ? part[6..] : part;
                if (value.StartsWith("one-", StringComparison.Ordinal)
                    && int.TryParse(value.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                {
                    return id;
                }
            }
        }

        return null;
    }
}
