namespace PciPassthrough;

/// <summary>A process that holds <c>/dev/vfio/&lt;group&gt;</c> open: the device is in use by it.</summary>
public sealed class VfioUser
{
    public VfioUser(int processId, string processName, int? vmId)
    {
        ProcessId = processId;
        ProcessName = processName;
        VmId = vmId;
    }

    public int ProcessId { get; }

    public string ProcessName { get; }

    /// <summary>The OpenNebula VM ID when the process is a QEMU started as <c>-name guest=one-&lt;ID&gt;</c>.</summary>
    public int? VmId { get; }

    public override string ToString() => VmId is int id ? $"one-{id} ({ProcessName}[{ProcessId}])" : $"{ProcessName}[{ProcessId}]";
}
