using System.Globalization;
using PciPassthrough.HostFs;
using PciPassthrough.Vfio;

namespace PciPassthrough.Mdev;

/// <summary>
/// Reads mediated devices under a host root: parents and types from /sys/class/mdev_bus, active
/// instances from /sys/bus/mdev/devices, definitions from /etc/mdevctl.d. Names from the host or the
/// user become path segments only when they are plain names (no '/', '.' or '..'), so no lookup leaves
/// the folder it names.
/// </summary>
public sealed class MediatedDeviceReader
{
    public const string ParentsPath = "/sys/class/mdev_bus";
    public const string DevicesPath = "/sys/bus/mdev/devices";

    private readonly HostRoot _root;

    public MediatedDeviceReader(HostRoot root) => _root = root;

    public HostRoot Root => _root;

    /// <summary>True for a name that is one path segment.</summary>
    public static bool IsPlainName(string? name) =>
        !string.IsNullOrEmpty(name) && name is not ("." or "..") && name.IndexOfAny(['/', '\0', '\n']) < 0;

    /// <summary>The UUID in sysfs's form (lowercase, dashed), or null when <paramref name="text"/> is none.</summary>
    public static string? NormalizeUuid(string? text) =>
        Guid.TryParseExact(text?.Trim(), "D", out var g) ? g.ToString("D") : null;

    public IReadOnlyList<string> Parents() => _root.ListNames(ParentsPath).Where(IsPlainName).ToList();

    public bool ParentExists(string parent) => IsPlainName(parent) && _root.Exists($"{ParentsPath}/{parent}");

    /// <summary>A parent whose name differs only in case (mdevctl suggests it too), or null.</summary>
    public string? ParentLike(string parent) => Parents().FirstOrDefault(p => string.Equals(p, parent, StringComparison.OrdinalIgnoreCase));

    public IReadOnlyList<MediatedDeviceType> Types(string parent)
    {
        if (!ParentExists(parent))
        {
            return [];
        }

        var isPci = IsPciParent(parent);
        return _root.ListNames($"{ParentsPath}/{parent}/mdev_supported_types").Where(IsPlainName).Select(t => ReadType(parent, t, isPci)).ToList();
    }

    public MediatedDeviceType? Type(string parent, string type) =>
        IsPlainName(type) && ParentExists(parent) && _root.Exists(TypePath(parent, type))
            ? ReadType(parent, type, IsPciParent(parent))
            : null;

    // A parent that is a PCI function (a GPU, the mtty sample is not), named by its address.
    private bool IsPciParent(string parent) => PciAddress.TryParse(parent, out _) && _root.Exists($"{Sysfs.PciDeviceReader.DevicesPath}/{parent}");

    public static string TypePath(string parent, string type) => $"{ParentsPath}/{parent}/mdev_supported_types/{type}";

    /// <summary>Every mediated device, active or defined, ordered by parent and UUID; unreadable definitions are returned as errors.</summary>
    public (IReadOnlyList<MediatedDevice> Devices, IReadOnlyList<PciPassthroughException> Errors) Devices()
    {
        var errors = new List<PciPassthroughException>();
        var definitions = Definitions(errors);

        // Read /proc once per listing, and only when some device has a group: never cached across calls,
        // since a removal plans again under the lock and must see who holds the group now.
        var users = new Lazy<VfioHolders>(() => VfioUsageScanner.Scan(_root));
        var result = new List<MediatedDevice>();
        foreach (var uuid in _root.ListNames(DevicesPath))
        {
            if (NormalizeUuid(uuid) is not { } id || Active(id) is not { } active)
            {
                continue;
            }

            var defined = definitions.FirstOrDefault(d => d.Uuid == id && d.Parent == active.Parent);
            if (defined.Config is not null)
            {
                definitions.Remove(defined);
            }

            result.Add(Build(id, active, defined.Parent is null ? null : defined, users));
        }

        result.AddRange(definitions.Select(d => Build(d.Uuid, null, d, users)));
        return (result.OrderBy(d => d.Parent, StringComparer.Ordinal).ThenBy(d => d.Uuid, StringComparer.Ordinal).ToList(), errors);
    }

    /// <summary>The active instance with this UUID, or null.</summary>
    internal ActiveInstance? Active(string uuid)
    {
        var dir = $"{DevicesPath}/{uuid}";
        if (!_root.Exists(dir))
        {
            return null;
        }

        // /sys/bus/mdev/devices/<uuid> links to <parent's device folder>/<uuid>: the parent is the link's
        // second-to-last segment, as mdevctl takes it.
        var segments = LinkTarget(dir)?.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var parent = segments is { Length: >= 2 } ? segments[^2] : Parents().FirstOrDefault(p => _root.Exists($"{ParentsPath}/{p}/{uuid}"));
        var type = LastSegment($"{dir}/mdev_type");
        var group = int.TryParse(LastSegment($"{dir}/iommu_group"), NumberStyles.None, CultureInfo.InvariantCulture, out var g) ? g : (int?)null;
        return parent is null || type is null ? null : new ActiveInstance(parent, type, group, LastSegment($"{dir}/driver"));
    }

    /// <summary>The definitions of every parent folder of /etc/mdevctl.d (scripts.d holds mdevctl's callouts, not a parent).</summary>
    internal List<Definition> Definitions(List<PciPassthroughException>? errors = null)
    {
        var result = new List<Definition>();
        foreach (var parent in _root.ListNames(MdevctlConfig.Directory).Where(p => IsPlainName(p) && p != "scripts.d"))
        {
            foreach (var file in _root.ListNames($"{MdevctlConfig.Directory}/{parent}"))
            {
                // mdevctl skips (with a warning) files not named by a UUID, such as a backup or an editor's swap file.
                if (NormalizeUuid(file) is not { } uuid || file.Length != 36)
                {
                    continue;
                }

                var path = MdevctlConfig.PathOf(parent, file);
                try
                {
                    var text = _root.TryReadText(path) ?? throw ErrorCatalog.MediatedDeviceConfigInvalid(path, "it cannot be read");
                    result.Add(new Definition(uuid, parent, path, MdevctlConfig.Parse(text, path)));
                }
                catch (PciPassthroughException e)
                {
                    errors?.Add(e);
                }
            }
        }

        return result;
    }

    private MediatedDevice Build(string uuid, ActiveInstance? active, Definition? defined, Lazy<VfioHolders> holders)
    {
        var group = active?.IommuGroup;
        var users = active is null ? [] : holders.Value.For(group, uuid);
        return new MediatedDevice
        {
            Uuid = uuid,
            Parent = active?.Parent ?? defined!.Value.Parent,
            Type = active?.Type ?? defined!.Value.Config.Type,
            DefinedType = defined?.Config.Type,
            State = active is null ? MediatedDeviceState.Defined : defined is null ? MediatedDeviceState.Active : MediatedDeviceState.ActiveAndDefined,
            StartMode = defined?.Config.StartMode,
            Attributes = defined?.Config.Attributes.ToArray() ?? [],
            IommuGroup = group,
            DevicePath = group is int g ? "/dev/vfio/" + g.ToString(CultureInfo.InvariantCulture) : null,
            Driver = active?.Driver,
            InUse = users,
            ConfigPath = defined?.Path,
            Root = _root.Path,
        };
    }

    private MediatedDeviceType ReadType(string parent, string type, bool isPci)
    {
        var dir = TypePath(parent, type);
        return new MediatedDeviceType
        {
            Parent = parent,
            ParentIsPci = isPci,
            Type = type,
            Name = Text($"{dir}/name"),
            Description = Text($"{dir}/description"),
            DeviceApi = Text($"{dir}/device_api"),
            AvailableInstances = int.TryParse(Text($"{dir}/available_instances"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null,
            Instances = _root.ListNames($"{dir}/devices").Select(NormalizeUuid).OfType<string>().ToArray(),
            Root = _root.Path,
        };
    }

    private string? Text(string hostPath) => _root.TryReadText(hostPath)?.Trim() is { Length: > 0 } s ? s : null;

    private string? LinkTarget(string hostPath)
    {
        try
        {
            return new FileInfo(_root.Resolve(hostPath)).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private string? LastSegment(string hostPath) =>
        LinkTarget(hostPath)?.TrimEnd('/').Split('/')[^1] is { Length: > 0 } s && IsPlainName(s) ? s : null;

    internal sealed record ActiveInstance(string Parent, string Type, int? IommuGroup, string? Driver);

    internal readonly record struct Definition(string Uuid, string Parent, string Path, MdevctlConfig Config);
}
