using System.Globalization;

namespace PciPassthrough;

/// <summary>How a process holds a device: the file it has open.</summary>
public enum VfioHoldKind
{
    /// <summary>The IOMMU group file <c>/dev/vfio/&lt;group&gt;</c> (the legacy container interface).</summary>
    GroupFile,

    /// <summary>The vfio device file <c>/dev/vfio/devices/vfio&lt;N&gt;</c> (the iommufd interface), mapped to the function by its <c>vfio-dev/vfio&lt;N&gt;</c> folder.</summary>
    DeviceFile,

    /// <summary>The group file of a mediated device (a vGPU) whose parent is this function.</summary>
    MediatedDeviceGroup,
}

/// <summary>
/// A process that holds a device open, named as an admin knows it: the libvirt domain (QEMU's
/// <c>-name guest=NAME</c>), the OpenNebula VM (<c>one-&lt;ID&gt;</c>), the process, and the file it holds.
/// </summary>
public sealed class VfioUser
{
    public VfioUser(int processId, string processName, int? vmId)
        : this(processId, processName, vmId is int id ? "one-" + id.ToString(CultureInfo.InvariantCulture) : null, VfioHoldKind.GroupFile, null)
    {
    }

    public VfioUser(int processId, string processName, string? domainName, VfioHoldKind heldThrough, string? path, string? mediatedDevice = null)
    {
        ProcessId = processId;
        ProcessName = processName;
        DomainName = domainName;
        VmId = QemuCommandLine.OpenNebulaVmId(domainName);
        HeldThrough = heldThrough;
        Path = path;
        MediatedDevice = mediatedDevice;
    }

    public int ProcessId { get; }

    public string ProcessName { get; }

    /// <summary>The libvirt domain (or any QEMU's <c>-name guest=</c>) the process runs; null for another program.</summary>
    public string? DomainName { get; }

    /// <summary>The OpenNebula VM ID when the domain is named <c>one-&lt;ID&gt;</c>.</summary>
    public int? VmId { get; }

    /// <summary>Which kind of file the process holds open.</summary>
    public VfioHoldKind HeldThrough { get; }

    /// <summary>The file it holds: <c>/dev/vfio/12</c> or <c>/dev/vfio/devices/vfio0</c>.</summary>
    public string? Path { get; }

    /// <summary>For <see cref="VfioHoldKind.MediatedDeviceGroup"/>: the UUID of the mediated device held.</summary>
    public string? MediatedDevice { get; }

    /// <summary>What to run to free the device: stop the VM where one is known.</summary>
    public string StopHint => VmId is int id
        ? $"onevm poweroff {id.ToString(CultureInfo.InvariantCulture)} (or virsh shutdown {DomainName})"
        : DomainName is string name ? $"virsh shutdown {name}" : $"stop process {ProcessId.ToString(CultureInfo.InvariantCulture)} ({ProcessName})";

    /// <summary>What a finding says when no holder was found but some processes could not be read.</summary>
    internal const string UnknownDetail = "No holder was found, but other users' processes could not be read: a guest may hold it.";

    internal const string UnknownRemedy = "Run as root to see every process that holds it.";

    /// <summary>The holders as one phrase, each named by domain, VM, process and file.</summary>
    public static string Describe(IEnumerable<VfioUser> users) => string.Join(", ", users.Select(u => u.ToString()));

    /// <summary>What to do, naming each VM (or process) to stop; <paramref name="orElse"/> follows it, as in "Stop ... first, or use -Force."</summary>
    public static string StopAdvice(IEnumerable<VfioUser> users, string? orElse = null)
    {
        var hints = users.DistinctBy(u => u.DomainName ?? u.ProcessId.ToString(CultureInfo.InvariantCulture)).Select(u => u.StopHint).ToList();
        var what = hints.Count == 0 ? "Stop the guest that uses it first" : $"Stop what holds it first: {string.Join("; ", hints)}";
        return orElse is null ? what + "." : $"{what}, or {orElse}.";
    }

    public override string ToString()
    {
        var process = $"{ProcessName}[{ProcessId.ToString(CultureInfo.InvariantCulture)}]";
        var file = Path is null ? null : MediatedDevice is null ? Path : $"{Path} of mdev {MediatedDevice}";
        var vm = VmId is int id ? $"VM {id.ToString(CultureInfo.InvariantCulture)}" : null;
        var details = string.Join(", ", new[] { vm, DomainName is null ? null : process, file }.OfType<string>());
        return DomainName is null
            ? file is null ? process : $"{process} ({file})"
            : $"domain {DomainName} ({details})";
    }
}
