namespace PciPassthrough.Iommu;

/// <summary>A group's character device, <c>/dev/vfio/&lt;N&gt;</c>, with who may open it.</summary>
public sealed class VfioDeviceNode
{
    public VfioDeviceNode(string path, string owner, string group, string mode)
    {
        Path = path;
        Owner = owner;
        Group = group;
        Mode = mode;
    }

    /// <summary>The path as the host sees it (<c>/dev/vfio/12</c>), whatever the root.</summary>
    public string Path { get; }

    public string Owner { get; }

    public string Group { get; }

    /// <summary>Four octal digits, e.g. <c>0660</c>.</summary>
    public string Mode { get; }

    public override string ToString() => $"{Path} {Owner}:{Group} {Mode}";
}
