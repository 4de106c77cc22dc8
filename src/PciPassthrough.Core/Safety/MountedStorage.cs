using PciPassthrough.HostFs;

namespace PciPassthrough.Safety;

/// <summary>
/// The block devices that hold a mounted filesystem or active swap, with every device beneath them
/// (partitions' disks, dm/md slaves), and which PCI device each sits under: detaching that controller
/// takes the filesystem away from the host.
/// </summary>
internal sealed class MountedStorage
{
    private readonly HostRoot _root;
    private readonly Dictionary<string, string> _usedBy = new(StringComparer.Ordinal);

    private MountedStorage(HostRoot root) => _root = root;

    /// <summary>
    /// Filesystems whose disks sysfs cannot trace (a ZFS pool's vdevs): while one is mounted, every
    /// storage controller may hold it.
    /// </summary>
    public IReadOnlyList<string> UntraceableMounts => _untraceable;

    private readonly List<string> _untraceable = [];

    /// <summary>False when no mount table can be read: no mount is then no evidence of safety.</summary>
    public static bool IsKnown(HostRoot root) =>
        root.TryReadText("/proc/mounts") is not null || root.TryReadText("/proc/self/mountinfo") is not null;

    public static MountedStorage Find(HostRoot root)
    {
        var storage = new MountedStorage(root);
        foreach (var line in (root.TryReadText("/proc/mounts") ?? "").Split('\n'))
        {
            var f = line.Split(' ');
            if (f.Length > 2 && f[0].StartsWith("/dev/", StringComparison.Ordinal))
            {
                storage.Add(f[0], f[1]);
            }
            else if (f.Length > 2 && f[2] == "zfs")
            {
                storage._untraceable.Add($"{f[1]} (zfs {f[0]})");
            }

            if (f.Length > 2 && f[2] == "btrfs")
            {
                // A multi-device btrfs names one disk in /proc/mounts: every btrfs member counts.
                foreach (var fs in root.ListNames("/sys/fs/btrfs"))
                {
                    foreach (var member in root.ListNames($"/sys/fs/btrfs/{fs}/devices"))
                    {
                        storage.AddWithSlaves(member, $"{f[1]} (btrfs)", depth: 0);
                    }
                }
            }
        }

        // mountinfo names every mount's block device by number, which also catches /dev/root and
        // sources that are not /dev paths: /sys/dev/block/MAJ:MIN links to the device.
        foreach (var line in (root.TryReadText("/proc/self/mountinfo") ?? "").Split('\n'))
        {
            var f = line.Split(' ');
            if (f.Length > 4 && !f[2].StartsWith("0:", StringComparison.Ordinal))
            {
                var target = new FileInfo(root.Resolve("/sys/dev/block/" + f[2])).LinkTarget;
                if (target is not null)
                {
                    storage.AddWithSlaves(Path.GetFileName(target.TrimEnd('/')), f[4], depth: 0);
                }
            }
        }

        foreach (var line in (root.TryReadText("/proc/swaps") ?? "").Split('\n').Skip(1))
        {
            var source = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            if (source is not null && source.StartsWith("/dev/", StringComparison.Ordinal))
            {
                storage.Add(source, "swap");
            }
        }

        return storage;
    }

    /// <summary>The mount points (or "swap") that live on block devices beneath this PCI device.</summary>
    public IReadOnlyList<string> MountsBeneath(PciDevice device)
    {
        var marker = "/" + device.PciAddress + "/";
        var result = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (block, mount) in _usedBy)
        {
            var link = new FileInfo(_root.Resolve("/sys/class/block/" + block)).LinkTarget;
            if (link is not null && link.Contains(marker, StringComparison.Ordinal))
            {
                result.Add($"{mount} (on {block})");
            }
        }

        return result.ToList();
    }

    private void Add(string devicePath, string mount)
    {
        var name = ResolveDeviceName(devicePath);
        if (name is not null)
        {
            AddWithSlaves(name, mount, depth: 0);
        }
    }

    private void AddWithSlaves(string block, string mount, int depth)
    {
        if (depth > 8 || _usedBy.ContainsKey(block))
        {
            return;
        }

        _usedBy[block] = mount;
        foreach (var slave in _root.ListNames($"/sys/class/block/{block}/slaves"))
        {
            AddWithSlaves(slave, mount, depth + 1);
        }

        // A native-multipath NVMe namespace (nvme0n1) sits under a virtual subsystem; its paths
        // (nvme0c0n1, ...) sit under the PCI controllers.
        foreach (var path in _root.ListNames($"/sys/class/block/{block}/multipath"))
        {
            AddWithSlaves(path, mount, depth + 1);
        }
    }

    // /dev/mapper/vg-root and /dev/disk/by-uuid/... are links to the kernel name (../dm-0).
    private string? ResolveDeviceName(string devicePath)
    {
        var path = devicePath;
        for (var hop = 0; hop < 10; hop++)
        {
            var target = new FileInfo(_root.Resolve(path)).LinkTarget;
            if (target is null)
            {
                break;
            }

            path = target.StartsWith('/') ? target : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, target));
        }

        var name = Path.GetFileName(path);
        return string.IsNullOrEmpty(name) ? null : name;
    }
}
