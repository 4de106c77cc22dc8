using PciPassthrough.HostConfig;

namespace PciPassthrough.Mdev;

/// <summary>What New-MediatedDevice is asked for. <see cref="Uuid"/> is already chosen (given, deterministic or random).</summary>
public sealed record MediatedDeviceRequest(string Parent, string Type, string Uuid)
{
    /// <summary>The UUID OpenNebula derives from a name: <c>uuidgen --sha1 --namespace @x500 --name TEXT</c>.</summary>
    public static string DeterministicUuid(string text) => OpenNebula.Probe.NameBasedUuid.X500Sha1(text);

    /// <summary>Written in this order to the device's sysfs files after creation, and kept in the definition.</summary>
    public IReadOnlyList<MediatedDeviceAttributeValue> Attributes { get; init; } = [];

    /// <summary>Write the mdevctl definition.</summary>
    public bool Persist { get; init; }

    public MediatedDeviceStartMode StartMode { get; init; } = MediatedDeviceStartMode.Manual;

    /// <summary>Define only: no sysfs write.</summary>
    public bool NoStart { get; init; }
}

/// <summary>One write a plan makes, in order: a sysfs attribute (value) or a file (content).</summary>
public sealed record MediatedDeviceWrite(string Path, string Value)
{
    public override string ToString() => $"write '{Value}' to {Path}";
}

/// <summary>Everything a creation will write, resolved and checked before the first write.</summary>
public sealed class MediatedDeviceCreation
{
    internal MediatedDeviceCreation(MediatedDeviceRequest request, int? available, bool alreadyActive, IReadOnlyList<MediatedDeviceWrite> writes, ConfigFileChange? definition)
    {
        Request = request;
        Available = available;
        AlreadyActive = alreadyActive;
        Writes = writes;
        Definition = definition;
    }

    public MediatedDeviceRequest Request { get; }

    /// <summary>available_instances before the creation.</summary>
    public int? Available { get; }

    /// <summary>The UUID is already active on this parent with this type: nothing is created (Proxmox reuses it too).</summary>
    public bool AlreadyActive { get; }

    /// <summary>The sysfs writes, in order: the UUID to create, then each attribute.</summary>
    public IReadOnlyList<MediatedDeviceWrite> Writes { get; }

    /// <summary>The mdevctl definition to write, or null without -Persist (Unchanged when the same one exists).</summary>
    public ConfigFileChange? Definition { get; }

    /// <summary>The -WhatIf line: every write and file, in order.</summary>
    public string Describe()
    {
        var r = Request;
        var steps = Writes.Select(w => w.ToString()).ToList();
        if (Definition is { Action: not FileAction.Unchanged } d)
        {
            steps.Add($"write {d.Path} (start={(r.StartMode == MediatedDeviceStartMode.Auto ? "auto" : "manual")}, {r.Attributes.Count} attribute(s))");
        }

        var what = AlreadyActive ? $"mdev {r.Uuid} already exists on {r.Parent} as {r.Type}" : r.NoStart ? $"define mdev {r.Uuid} on {r.Parent} type {r.Type}" : $"create mdev {r.Uuid} on {r.Parent} type {r.Type} ({Available?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"} available)";
        return what + ": " + (steps.Count == 0 ? "nothing to write" : string.Join("; ", steps));
    }
}

/// <summary>Everything a removal will write or delete, resolved and checked before the first write.</summary>
public sealed class MediatedDeviceRemoval
{
    internal MediatedDeviceRemoval(MediatedDevice device, MediatedDeviceWrite? remove, IReadOnlyList<string> definitions)
    {
        Device = device;
        Remove = remove;
        Definitions = definitions;
    }

    public MediatedDevice Device { get; }

    /// <summary>The sysfs write that removes the active instance; null when it is not active.</summary>
    public MediatedDeviceWrite? Remove { get; }

    /// <summary>The definition files (host paths) -Undefine deletes.</summary>
    public IReadOnlyList<string> Definitions { get; }

    public string Describe()
    {
        var steps = new List<string>();
        if (Remove is not null)
        {
            steps.Add(Remove.ToString());
        }

        steps.AddRange(Definitions.Select(p => "delete " + p));
        var d = Device;
        return $"remove mdev {d.Uuid} ({d.Parent} {d.Type}, {d.State}{(d.InUse.Length > 0 ? ", in use by " + string.Join(", ", d.InUse.Select(u => u.ToString())) : "")}): {(steps.Count == 0 ? "nothing to do" : string.Join("; ", steps))}";
    }
}
