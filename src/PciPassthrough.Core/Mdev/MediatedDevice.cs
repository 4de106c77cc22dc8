namespace PciPassthrough.Mdev;

/// <summary>Where a mediated device exists: in sysfs (created), in /etc/mdevctl.d (persisted), or both.</summary>
public enum MediatedDeviceState
{
    Active,
    Defined,
    ActiveAndDefined,
}

/// <summary>mdevctl's <c>start</c> field: <c>auto</c> starts the device when its parent appears.</summary>
public enum MediatedDeviceStartMode
{
    Auto,
    Manual,
}

/// <summary>One entry of a definition's ordered attribute list, written to the device's sysfs file of that name after creation.</summary>
public sealed class MediatedDeviceAttributeValue
{
    public MediatedDeviceAttributeValue(string name, string value)
    {
        Name = name;
        Value = value;
    }

    public string Name { get; }

    public string Value { get; }

    public override string ToString() => $"{Name}={Value}";
}

/// <summary>A mediated device: an active instance under /sys/bus/mdev/devices, an mdevctl definition, or both.</summary>
public sealed class MediatedDevice
{
    /// <summary>The UUID, lowercase, as sysfs and mdevctl name it.</summary>
    public string Uuid { get; init; } = "";

    public string Parent { get; init; } = "";

    /// <summary>The active instance's type; for a device that is only defined, the definition's.</summary>
    public string Type { get; init; } = "";

    public MediatedDeviceState State { get; init; }

    /// <summary>The definition's start mode; null when the device is not defined.</summary>
    public MediatedDeviceStartMode? StartMode { get; init; }

    /// <summary>The definition's attributes, in the order they are written.</summary>
    public MediatedDeviceAttributeValue[] Attributes { get; init; } = [];

    /// <summary>The active instance's IOMMU group; null when not active or not probed.</summary>
    public int? IommuGroup { get; init; }

    /// <summary><c>/dev/vfio/&lt;group&gt;</c>, the node a guest opens; null without a group.</summary>
    public string? DevicePath { get; init; }

    /// <summary>The mdev driver bound to the instance (<c>vfio_mdev</c>, <c>mtty</c>, <c>nvidia-vgpu-vfio</c>); null when none.</summary>
    public string? Driver { get; init; }

    /// <summary>The processes holding <see cref="DevicePath"/> open; empty when none.</summary>
    public VfioUser[] InUse { get; init; } = [];

    /// <summary>The definition's host path (<c>/etc/mdevctl.d/&lt;parent&gt;/&lt;uuid&gt;</c>); null when not defined.</summary>
    public string? ConfigPath { get; init; }

    public string Root { get; init; } = "/";

    /// <summary>The type the definition names, when it differs from the active instance's (for the drift test).</summary>
    internal string? DefinedType { get; init; }

    public override string ToString() => Uuid;
}
