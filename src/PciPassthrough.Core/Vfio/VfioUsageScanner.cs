using System.Globalization;
using System.Text;

namespace PciPassthrough.Vfio;

/// <summary>
/// Finds the processes that hold VFIO files open (a running guest does), by reading <c>/proc/*/fd</c> links under
/// the host root: group files <c>/dev/vfio/&lt;group&gt;</c>, and vfio device files <c>/dev/vfio/devices/vfio&lt;N&gt;</c>
/// (the iommufd interface), each mapped to its function through sysfs. <c>/dev/iommu</c> alone holds no device.
/// Processes that vanish are skipped; processes whose files cannot be read make the answer incomplete.
/// </summary>
internal static class VfioUsageScanner
{
    private const string VfioPrefix = "/dev/vfio/";
    private const string DeviceFilePrefix = "/dev/vfio/devices/vfio";

    /// <summary>Every holder, by group and by device; <see cref="VfioHolders.None"/> when no VFIO file exists to hold.</summary>
    public static VfioHolders Scan(HostFs.HostRoot root)
    {
        if (!AnyVfioNode(root))
        {
            return VfioHolders.None;
        }

        IEnumerable<string> processes;
        try
        {
            processes = Directory.EnumerateDirectories(root.Resolve("/proc")).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new VfioHolders(new Dictionary<int, VfioUser[]>(), new Dictionary<string, VfioUser[]>(StringComparer.Ordinal), complete: false, unreadable: 0);
        }

        var groupFiles = new List<(int Pid, string Path, int Group)>();
        var deviceFiles = new List<(int Pid, string Path, string Node)>();
        var unreadable = 0;
        foreach (var processDir in processes)
        {
            if (!int.TryParse(Path.GetFileName(processDir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            var targets = FdTargets(processDir);
            if (targets is null)
            {
                unreadable++;
                continue;
            }

            foreach (var target in targets.Distinct(StringComparer.Ordinal))
            {
                if (target.StartsWith(DeviceFilePrefix, StringComparison.Ordinal)
                    && int.TryParse(target.AsSpan(DeviceFilePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    deviceFiles.Add((pid, target, target["/dev/vfio/devices/".Length..]));
                }
                else if (target.StartsWith(VfioPrefix, StringComparison.Ordinal)
                    && int.TryParse(target.AsSpan(VfioPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var group))
                {
                    groupFiles.Add((pid, target, group));
                }
            }
        }

        var names = new Dictionary<int, (string Comm, string? Domain)>();
        (string Comm, string? Domain) Name(int pid)
        {
            if (!names.TryGetValue(pid, out var n))
            {
                var dir = root.Resolve("/proc/" + pid.ToString(CultureInfo.InvariantCulture));
                n = (ReadComm(dir), QemuCommandLine.GuestName(ReadCmdline(dir)));
                names[pid] = n;
            }

            return n;
        }

        var mdevGroups = groupFiles.Count == 0 ? new Dictionary<int, (string Uuid, string? Parent)>() : MediatedDeviceGroups(root);
        var groups = new Dictionary<int, List<VfioUser>>();
        var devices = new Dictionary<string, List<VfioUser>>(StringComparer.Ordinal);
        foreach (var (pid, path, group) in groupFiles)
        {
            var (comm, domain) = Name(pid);
            var mdev = mdevGroups.TryGetValue(group, out var m) ? m : default;
            var user = new VfioUser(pid, comm, domain, mdev.Uuid is null ? VfioHoldKind.GroupFile : VfioHoldKind.MediatedDeviceGroup, path, mdev.Uuid);
            Add(groups, group, user);
            if (mdev.Parent is not null)
            {
                Add(devices, mdev.Parent, user);
            }
        }

        var owners = new Dictionary<string, (string Device, string? Parent)?>(StringComparer.Ordinal);
        foreach (var (pid, path, node) in deviceFiles)
        {
            if (!owners.TryGetValue(node, out var owner))
            {
                owner = DeviceFileOwner(root, node);
                owners[node] = owner;
            }

            if (owner is not { } o)
            {
                continue;
            }

            var (comm, domain) = Name(pid);
            var user = new VfioUser(pid, comm, domain, VfioHoldKind.DeviceFile, path, o.Parent is null ? null : o.Device);
            Add(devices, o.Device, user);
            if (o.Parent is not null)
            {
                Add(devices, o.Parent, user);
            }
        }

        return new VfioHolders(
            groups.ToDictionary(kv => kv.Key, kv => kv.Value.OrderBy(u => u.ProcessId).ToArray()),
            devices.ToDictionary(kv => kv.Key, kv => kv.Value.OrderBy(u => u.ProcessId).ToArray(), StringComparer.Ordinal),
            complete: unreadable == 0,
            unreadable);
    }

    private static void Add<TKey>(Dictionary<TKey, List<VfioUser>> map, TKey key, VfioUser user)
        where TKey : notnull
    {
        if (!map.TryGetValue(key, out var list))
        {
            list = [];
            map[key] = list;
        }

        if (!list.Exists(u => u.ProcessId == user.ProcessId && u.Path == user.Path))
        {
            list.Add(user);
        }
    }

    private static bool AnyVfioNode(HostFs.HostRoot root)
    {
        static bool AnyNumbered(string dir, string prefix)
        {
            try
            {
                return Directory.Exists(dir)
                    && Directory.EnumerateFileSystemEntries(dir).Any(p => Path.GetFileName(p) is var n && n.StartsWith(prefix, StringComparison.Ordinal)
                        && int.TryParse(n.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out _));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }

        return AnyNumbered(root.Resolve("/dev/vfio"), "") || AnyNumbered(root.Resolve("/dev/vfio/devices"), "vfio");
    }

    /// <summary>
    /// The device behind <c>/dev/vfio/devices/vfio&lt;N&gt;</c>: <c>/sys/class/vfio-dev/vfio&lt;N&gt;</c> links to
    /// <c>&lt;device&gt;/vfio-dev/vfio&lt;N&gt;</c>, so the device is the segment before <c>vfio-dev</c> (a PCI
    /// address, or an mdev's UUID whose parent is the segment before it). Without the class link, each PCI
    /// function's own <c>vfio-dev</c> folder is asked.
    /// </summary>
    private static (string Device, string? Parent)? DeviceFileOwner(HostFs.HostRoot root, string node)
    {
        var link = LinkTarget(root.Resolve("/sys/class/vfio-dev/" + node));
        if (link is not null)
        {
            var segments = link.Split('/', StringSplitOptions.RemoveEmptyEntries);
            var at = Array.LastIndexOf(segments, "vfio-dev");
            if (at >= 1)
            {
                var device = segments[at - 1];
                return PciAddress.TryParse(device, out _) ? (device, null)
                    : at >= 2 && PciAddress.TryParse(segments[at - 2], out _) ? (device, segments[at - 2])
                    : (device, null);
            }
        }

        foreach (var address in root.ListNames(Sysfs.PciDeviceReader.DevicesPath))
        {
            if (root.Exists($"{Sysfs.PciDeviceReader.DevicesPath}/{address}/vfio-dev/{node}"))
            {
                return (address, null);
            }
        }

        return null;
    }

    /// <summary>An mdev's group number to its UUID and, when its parent is a PCI function, that function's address.</summary>
    private static Dictionary<int, (string Uuid, string? Parent)> MediatedDeviceGroups(HostFs.HostRoot root)
    {
        var result = new Dictionary<int, (string, string?)>();
        var reader = new Mdev.MediatedDeviceReader(root);
        foreach (var uuid in root.ListNames(Mdev.MediatedDeviceReader.DevicesPath))
        {
            if (reader.Active(uuid) is { IommuGroup: int group } active)
            {
                result[group] = (uuid, PciAddress.TryParse(active.Parent, out _) ? active.Parent : null);
            }
        }

        return result;
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
                    && FdTargets(processDir) is { } targets && targets.Contains("anon_inode:[vfio-device]"))
                {
                    holders.Add(new VfioUser(pid, ReadComm(processDir), QemuCommandLine.GuestName(ReadCmdline(processDir)), VfioHoldKind.DeviceFile, "anon_inode:[vfio-device]"));
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No /proc under this root: no holder can be named.
        }

        return holders.OrderBy(u => u.ProcessId).ToList();
    }

    /// <summary>The targets of a process's fd links; null when they cannot be read although the process still
    /// exists (another user's process and we are not root), empty when it exited meanwhile.</summary>
    private static List<string>? FdTargets(string processDir)
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
        catch (DirectoryNotFoundException) when (!Directory.Exists(processDir))
        {
            // The process exited.
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Directory.Exists(processDir) ? null : targets;
        }

        return targets;
    }

    private static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
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

    private static string[] ReadCmdline(string processDir)
    {
        try
        {
            return Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(processDir, "cmdline"))).Split('\0');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
