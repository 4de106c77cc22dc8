namespace PciPassthrough;

/// <summary>Errors of the issue 16 leftovers: resets the module never does.</summary>
public static partial class ErrorCatalog
{
    /// <summary>An NVIDIA vGPU VF in the driver's vendor mode (MDEV_MODE nvidia): the nvidia driver owns its state.</summary>
    public static PciPassthroughException VgpuVirtualFunction(PciDevice device) => new(
        ErrorIds.VgpuVirtualFunction,
        FailureKind.InvalidOperation,
        $"Refusing to reset {device.PciAddress}: it is an NVIDIA vGPU virtual function in the driver's vendor mode (no /sys/class/mdev_bus entry, OpenNebula's MDEV_MODE nvidia). The nvidia driver manages its vGPU state; a reset through the kernel breaks the vGPU of the VM that uses it, and can leave the GPU needing a host reboot.",
        "Never reset a vGPU VF through the kernel: stop the VM that uses it (the nvidia driver resets the vGPU), or reset the whole GPU (the physical function) when no vGPU is active.",
        device.PciAddress);
}
