using System.Globalization;
using System.Text.RegularExpressions;

namespace PciPassthrough.OpenNebula.Placement;

/// <summary>One PCI device of a host as OpenNebula's scheduler sees it: ids, address and the VM using it.</summary>
public sealed partial class PciHostDevice
{
    /// <summary>OpenNebula's VMID of a free device.</summary>
    public const int Free = -1;

    /// <summary>The VMID this module gives a device a process that is not an OpenNebula VM holds.</summary>
    public const int HeldOutsideOpenNebula = -2;

    private PciHostDevice(global::PciPassthrough.PciAddress address, string vendor, string device, string cls, int vmId, int? numaNode, string? deviceName)
    {
        Parsed = address;
        PciAddress = address.ToString();
        ShortAddress = address.ToLspciSlot();
        VendorId = vendor;
        DeviceId = device;
        Class = cls;
        VmId = vmId;
        NumaNode = numaNode;
        DeviceName = deviceName;
    }

    /// <summary><c>DDDD:BB:SS.F</c>, as Get-PciDevice prints it.</summary>
    public string PciAddress { get; }

    /// <summary>lspci's slot string, as OpenNebula's SHORT_ADDRESS.</summary>
    public string ShortAddress { get; }

    public string VendorId { get; }

    public string DeviceId { get; }

    public string Class { get; }

    /// <summary>-1 when free (OpenNebula's VMID), else the VM using it (-2: a process outside OpenNebula).</summary>
    public int VmId { get; }

    public int? NumaNode { get; }

    public string? DeviceName { get; }

    /// <summary>UUID of an NVIDIA vGPU (the probe's UUID attribute); the KVM driver then writes an mdev hostdev.</summary>
    public string? Uuid { get; private init; }

    /// <summary>MDEV_MODE of an NVIDIA vGPU: <c>legacy</c> or <c>nvidia</c> (the hostdev gets managed='no').</summary>
    public string? MdevMode { get; private init; }

    public bool IsFree => VmId == Free;

    internal global::PciPassthrough.PciAddress Parsed { get; }

    /// <summary>
    /// Validates and builds a device. <paramref name="address"/> may be OpenNebula's <c>DDDD:BB:SS:F</c> or
    /// <c>DDDD:BB:SS.F</c>; ids are up to 4 hex digits. <paramref name="where"/> names the source in errors.
    /// </summary>
    public static PciHostDevice Create(string? address, string? vendor, string? device, string? cls, int vmId, int? numaNode, string? deviceName, string where) =>
        Create(address, vendor, device, cls, vmId, numaNode, deviceName, null, null, where);

    /// <summary>As the other overload, with an NVIDIA vGPU's UUID and MDEV_MODE (empty = none).</summary>
    public static PciHostDevice Create(string? address, string? vendor, string? device, string? cls, int vmId, int? numaNode, string? deviceName, string? uuid, string? mdevMode, string where)
    {
        var text = (address ?? "").Trim();
        if (OpenNebulaAddress().IsMatch(text))
        {
            text = text[..^2] + "." + text[^1];
        }

        if (!global::PciPassthrough.PciAddress.TryParse(text, out var parsed))
        {
            throw Invalid(where, $"ADDRESS '{address}' is not a PCI address.", "Give ADDRESS as OpenNebula prints it (0000:04:00:0) or as Get-PciDevice does (0000:04:00.0).", address);
        }

        if (!string.IsNullOrWhiteSpace(uuid) && !Guid.TryParseExact(uuid.Trim(), "D", out _))
        {
            throw Invalid(where, $"UUID '{uuid}' is not a UUID.", "UUID is the vGPU's UUID as the probe prints it, for example e4042b96-e63d-56cf-bcc8-4e6eecccc12e.", uuid);
        }

        return new PciHostDevice(parsed, Hex(where, "VENDOR", vendor), Hex(where, "DEVICE", device), Hex(where, "CLASS", cls), vmId, numaNode is >= 0 ? numaNode : null, deviceName)
        {
            Uuid = string.IsNullOrWhiteSpace(uuid) ? null : uuid.Trim().ToLowerInvariant(),
            MdevMode = string.IsNullOrWhiteSpace(mdevMode) ? null : mdevMode.Trim(),
        };
    }

    public override string ToString() => $"{ShortAddress} {VendorId}:{DeviceId}:{Class}";

    internal static PciPassthroughException Invalid(string where, string message, string action, object? target) =>
        ErrorCatalog.InvalidHostInventory(where, message, action, target);

    private static string Hex(string where, string name, string? value)
    {
        var v = (value ?? "").Trim();
        if (v.Length is < 1 or > 4 || !v.All(char.IsAsciiHexDigit))
        {
            throw Invalid(where, $"{name} '{value}' is not a 4-digit hexadecimal id.", $"Each PCI device needs {name} as lspci -n prints it, for example 10de.", value);
        }

        return int.Parse(v, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture).ToString("x4", CultureInfo.InvariantCulture);
    }

    [GeneratedRegex("^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}:[0-7]$")]
    private static partial Regex OpenNebulaAddress();
}

/// <summary>A host and its PCI devices, from <c>onehost show -x</c> or from a live inventory.</summary>
public sealed class PciHostInventory
{
    public PciHostInventory(string hostName, int? hostId, IEnumerable<PciHostDevice> devices, string? gpuProfile = null)
    {
        GpuProfile = string.IsNullOrWhiteSpace(gpuProfile) ? null : gpuProfile.Trim();
        HostName = hostName;
        HostId = hostId;
        Devices = devices.OrderBy(d => d.Parsed).ToArray();
        var duplicate = Devices.Zip(Devices.Skip(1)).FirstOrDefault(p => p.First.Parsed == p.Second.Parsed);
        if (duplicate.First is not null)
        {
            throw PciHostDevice.Invalid($"host {hostName}", $"the device {duplicate.First.PciAddress} is listed twice.", "List each device of a host once.", duplicate.First.PciAddress);
        }
    }

    public string HostName { get; }

    /// <summary>PCI_GPU_PROFILE of the host (or its cluster): the vGPU profile of NVIDIA GPU sections without PROFILE.</summary>
    public string? GpuProfile { get; }

    /// <summary>A copy with only the devices <paramref name="filter"/> keeps and <paramref name="gpuProfile"/> when this host has none.</summary>
    public PciHostInventory With(PciHostFilter? filter, string? gpuProfile) =>
        new(HostName, HostId, filter is null ? Devices : Devices.Where(filter.Keeps), GpuProfile ?? gpuProfile);

    /// <summary>OpenNebula's host ID; null for a live inventory.</summary>
    public int? HostId { get; }

    /// <summary>In ascending address order, the order OpenNebula scans them in.</summary>
    public IReadOnlyList<PciHostDevice> Devices { get; }

    public override string ToString() => HostName;
}
