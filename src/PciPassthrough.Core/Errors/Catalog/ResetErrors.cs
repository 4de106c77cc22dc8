namespace PciPassthrough;

/// <summary>Device reset and reset_method.</summary>
public static partial class ErrorCatalog
{
    public static PciPassthroughException ResetOfBridge(PciDevice device) => new(
        ErrorIds.NotAnEndpoint, FailureKind.InvalidOperation,
        $"Refusing to reset {device.PciAddress} ({device.DeviceName}): it is a bridge ({device.ClassName}), and resetting it resets everything below it.",
        $"Reset the endpoint devices behind the bridge instead, or, to reset everything below it on purpose, Reset-PciDevice -Address {device.PciAddress} -Subordinate.",
        device.PciAddress);

    public static PciPassthroughException ResetInUse(PciDevice device) => new(
        ErrorIds.InUse, FailureKind.ResourceBusy,
        $"Refusing to reset {device.PciAddress}: it is held by {VfioUser.Describe(device.InUse)}; a guest is using it.",
        VfioUser.StopAdvice(device.InUse) + " vfio-pci resets the device itself when the guest starts and stops.",
        device.PciAddress);

    /// <param name="check">The failed safety rule's name; <paramref name="detail"/> and <paramref name="remedy"/> are its finding's.</param>
    public static PciPassthroughException ResetOfHostCritical(PciDevice device, string check, string detail, string? remedy) => new(
        ErrorIds.HostCritical, FailureKind.InvalidOperation,
        $"Refusing to reset {device.PciAddress} ({device.DeviceName}): {char.ToLowerInvariant(detail[0])}{detail[1..].TrimEnd('.')} ({check}).",
        remedy,
        device.PciAddress);

    public static PciPassthroughException ResetNotSupported(PciDevice device, bool methodsDisabled) => new(
        ErrorIds.ResetNotSupported, FailureKind.InvalidOperation,
        $"{device.PciAddress} ({device.DeviceName}) offers no reset: the kernel found no FLR, PM, bus or device-specific method{(methodsDisabled ? ", or its methods were disabled (Set-PciResetMethod -Default re-enables them)" : "")}.",
        "Such a device cannot be reset between guests; prefer a card with FLR.",
        device.PciAddress);

    public static PciPassthroughException UnknownResetMethod(PciDevice device, IEnumerable<string> unknown, IEnumerable<string> known) => new(
        ErrorIds.ResetMethodUnsupported, FailureKind.InvalidArgument,
        $"'{string.Join(" ", unknown)}' is no reset method the kernel knows ({string.Join(", ", known)}).",
        $"Choose among the device's methods: {string.Join(" ", device.ResetMethods)}.",
        device.PciAddress);

    public static PciPassthroughException BusResetAffectsOthers(PciDevice device, IEnumerable<PciDevice> others) => new(
        ErrorIds.BusResetAffectsOthers, FailureKind.InvalidOperation,
        $"Refusing to reset {device.PciAddress}: only a secondary bus reset is left, and it would also reset {string.Join(", ", others.Select(o => $"{o.PciAddress} ({o.Driver})"))} on the same bus.",
        "Move those functions to vfio-pci (or off their drivers) first, or pass them together to one guest.",
        device.PciAddress);

    /// <summary>A reset with chosen methods on a kernel without reset_method (before 5.15).</summary>
    public static PciPassthroughException ResetMethodsNotChoosable(PciDevice device) => new(
        ErrorIds.ResetMethodUnsupported, FailureKind.InvalidOperation,
        $"{device.PciAddress} has no reset_method file (kernel before 5.15), so the methods cannot be chosen.",
        "Omit -Method: the kernel tries its own order.",
        device.PciAddress);

    public static PciPassthroughException NoResetMethodFile(PciDevice device) => new(
        ErrorIds.ResetMethodUnsupported, FailureKind.InvalidOperation,
        $"{device.PciAddress} has no reset_method file: the kernel is older than 5.15 or offers no reset.",
        "Upgrade the kernel to choose reset methods.",
        device.PciAddress);

    public static PciPassthroughException ResetMethodRefused(PciDevice device, string methods, Exception e) => new(
        ErrorIds.ResetMethodUnsupported, FailureKind.InvalidArgument,
        $"The kernel refused reset_method '{methods.Trim()}' for {device.PciAddress}: the device does not support it (EINVAL).",
        $"Choose among the methods the device supports (Get-PciDevice -Address {device.PciAddress} shows them; Set-PciResetMethod -Default restores them all).",
        device.PciAddress, e);

    public static PciPassthroughException ResetMethodWriteFailed(PciDevice device, Exception e) => new(
        ErrorIds.ResetFailed, FailureKind.WriteError,
        $"Cannot write reset_method of {device.PciAddress}: {e.Message}",
        "Run as root.",
        device.PciAddress, e);

    public static PciPassthroughException ResetFailed(PciDevice device, IEnumerable<string> methods, Exception e) => new(
        ErrorIds.ResetFailed, FailureKind.WriteError,
        $"The kernel could not reset {device.PciAddress} with {string.Join(" ", methods)}: {e.Message}",
        "Check dmesg; a device that fails its reset may need a host reboot before it works again.",
        device.PciAddress, e);

    public static PciPassthroughException ResetTimedOut(PciDevice device, string value, string hostPath, TimeSpan timeout) => new(
        ErrorIds.ResetTimedOut, FailureKind.WriteError,
        $"Writing '{value.Trim()}' to {hostPath} did not return within {timeout.TotalSeconds:0} s: the device may hang in its reset.",
        "Check dmesg; the write is still pending in the kernel, and the device may need a host reboot.",
        device.PciAddress);

    // Reset-PciDevice -Subordinate: a secondary bus reset of everything below a bridge (reset_subordinate).

    public static PciPassthroughException SubordinateOfNonBridge(PciDevice device) => new(
        ErrorIds.ResetNotSupported, FailureKind.InvalidArgument,
        $"{device.PciAddress} ({device.DeviceName}) is no bridge: -Subordinate resets the devices below a bridge or port.",
        $"Omit -Subordinate to reset the function itself, or name the port above it (Get-PciTopology -Address {device.PciAddress} shows it).",
        device.PciAddress);

    public static PciPassthroughException SubordinateResetNotSupported(PciDevice bridge) => new(
        ErrorIds.ResetNotSupported, FailureKind.InvalidOperation,
        $"The kernel offers no reset_subordinate for {bridge.PciAddress} ({bridge.DeviceName}): it was added in Linux 6.13 (some stable kernels carry it).",
        "Reset the devices below one by one (Reset-PciDevice without -Subordinate), or use a kernel with reset_subordinate.",
        bridge.PciAddress);

    public static PciPassthroughException SubordinateInUse(PciDevice bridge, IEnumerable<PciDevice> held) => new(
        ErrorIds.InUse, FailureKind.ResourceBusy,
        $"Refusing to reset everything below {bridge.PciAddress}: {string.Join("; ", held.Select(d => $"{d.PciAddress} is held by {VfioUser.Describe(d.InUse)}"))}; a guest is using it.",
        VfioUser.StopAdvice(held.SelectMany(d => d.InUse)),
        bridge.PciAddress);

    /// <param name="critical">Each device below the bridge the host must keep, with its failed rule's name and detail.</param>
    public static PciPassthroughException SubordinateHostCritical(PciDevice bridge, IEnumerable<(PciDevice Device, string Check, string Detail)> critical) => new(
        ErrorIds.HostCritical, FailureKind.InvalidOperation,
        $"Refusing to reset everything below {bridge.PciAddress}: the host needs {string.Join("; ", critical.Select(c => $"{c.Device.PciAddress} ({c.Device.DeviceName}: {c.Detail.TrimEnd('.')}, {c.Check})"))}.",
        "A secondary bus reset would cut the host off that console, network or storage: reset the other devices one by one instead.",
        bridge.PciAddress);

    public static PciPassthroughException SubordinateVgpu(PciDevice bridge, IEnumerable<PciDevice> vfs) => new(
        ErrorIds.VgpuVirtualFunction, FailureKind.InvalidOperation,
        $"Refusing to reset everything below {bridge.PciAddress}: {string.Join(", ", vfs.Select(v => v.PciAddress))} are NVIDIA vGPU virtual functions, which the nvidia driver resets itself.",
        "Leave resets of vGPU virtual functions to the nvidia driver.",
        bridge.PciAddress);
}
