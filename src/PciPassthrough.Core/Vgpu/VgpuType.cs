namespace PciPassthrough.Vgpu;

/// <summary>One vGPU type of one NVIDIA virtual function: creatable on it now, current on it, or both.</summary>
public sealed class VgpuType
{
    /// <summary>The VF's address.</summary>
    public string PciAddress { get; init; } = "";

    public string? PhysicalFunction { get; init; }

    /// <summary>The numeric type ID written to current_vgpu_type (NVIDIA's "vGPU type ID").</summary>
    public int TypeId { get; init; }

    /// <summary>The full name (<c>NVIDIA A10-1Q</c>); null for a current type no longer listed as creatable (only NVML could name it).</summary>
    public string? Name { get; init; }

    /// <summary>The last word of the name (<c>A10-1Q</c>), as vgpu-device-manager names profiles.</summary>
    public string? ShortName { get; init; }

    /// <summary>True when the VF runs this type now.</summary>
    public bool Current { get; init; }

    /// <summary>True when the VF lists the type in creatable_vgpu_types now (the list changes as siblings get types).</summary>
    public bool Creatable { get; init; }

    public string Root { get; init; } = "/";

    public override string ToString() => $"{PciAddress}:{TypeId}";
}

/// <summary>The lenient parse of <c>nvidia/creatable_vgpu_types</c>, as vgpu-device-manager, OpenNebula and Proxmox read it.</summary>
public static class CreatableVgpuTypes
{
    /// <summary>Lines <c>ID : Name</c> or <c>ID Name</c>; blank lines and lines not starting with a number (the header) are skipped.</summary>
    public static IReadOnlyList<(int Id, string Name)> Parse(string? text)
    {
        var result = new List<(int, string)>();
        foreach (var raw in (text ?? "").Split('\n'))
        {
            var line = raw.Trim();
            var end = 0;
            while (end < line.Length && char.IsAsciiDigit(line[end]))
            {
                end++;
            }

            if (end == 0 || end > 9 || (end < line.Length && !char.IsWhiteSpace(line[end]) && line[end] != ':'))
            {
                continue;
            }

            var name = line[end..].TrimStart().TrimStart(':').Trim();
            result.Add((int.Parse(line[..end], System.Globalization.CultureInfo.InvariantCulture), name));
        }

        return result;
    }

    public static string? ShortName(string? name) => string.IsNullOrWhiteSpace(name) ? null : name.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[^1];
}
