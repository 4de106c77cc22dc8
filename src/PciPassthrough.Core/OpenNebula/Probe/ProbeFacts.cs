namespace PciPassthrough.OpenNebula.Probe;

/// <summary>
/// What OpenNebula's probe reads from a device's sysfs folder besides the properties, kept as pci.rb sees it
/// (raw text, existence rather than validity). <see cref="Sysfs.PciDeviceReader"/> records it while it has the
/// folder open when <see cref="Sysfs.PciDeviceReadOptions"/> ask for it (<see cref="PciProbe.ReadOptions"/>),
/// so the probe does not open the same files again by path. A device read without it is probed by path.
/// </summary>
internal sealed class ProbeFacts
{
    /// <summary>numa_node's text, trimmed; null when it is missing or unreadable.</summary>
    public string? NumaNode { get; init; }

    /// <summary>True when a physfn entry exists (the device is a VF), whatever it holds.</summary>
    public bool HasPhysfn { get; init; }

    /// <summary>True when sriov_numvfs or sriov_totalvfs exists.</summary>
    public bool HasSriovFiles { get; init; }

    /// <summary>sriov_numvfs's text, trimmed; null when it is missing or unreadable.</summary>
    public string? NumVfs { get; init; }

    /// <summary>The names in the device's net/ folder, sorted (not the virtio child's interfaces).</summary>
    public IReadOnlyList<string> NetNames { get; init; } = [];

    /// <summary>
    /// A small attribute file's text as the probe reads it by path (File.ReadAllText, then Trim()), from bytes
    /// already read; null when the bytes might decode otherwise (not ASCII, or possibly truncated), for the caller
    /// to read the file by path instead. ASCII decodes byte for byte, so trimming the bytes with char.IsWhiteSpace
    /// trims what string.Trim() would.
    /// </summary>
    public static bool TryTrimmedAscii(ReadOnlySpan<byte> raw, bool truncated, out ReadOnlySpan<byte> trimmed)
    {
        trimmed = default;
        if (truncated)
        {
            return false;
        }

        foreach (var b in raw)
        {
            if (b >= 0x80)
            {
                return false;
            }
        }

        var start = 0;
        var end = raw.Length;
        while (start < end && char.IsWhiteSpace((char)raw[start]))
        {
            start++;
        }

        while (end > start && char.IsWhiteSpace((char)raw[end - 1]))
        {
            end--;
        }

        trimmed = raw[start..end];
        return true;
    }
}
