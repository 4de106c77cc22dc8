namespace PciPassthrough;

/// <summary>The errors of NVIDIA's vendor-specific vGPU framework (issue 17).</summary>
public static partial class ErrorCatalog
{
    public static PciPassthroughException VgpuNotSupported(string address, string detail) => new(
        ErrorIds.VgpuNotSupported,
        FailureKind.InvalidOperation,
        $"{address} {detail}",
        "Give a virtual function of an NVIDIA GPU on the nvidia driver (kernel 6.8+, vGPU 17+): enable VFs with Enable-PciVgpuVirtualFunction; legacy mdev GPUs use New-MediatedDevice (Get-PciDevice shows VgpuFramework).",
        address);

    public static PciPassthroughException VgpuTypeNotCreatable(string address, string type, IEnumerable<string> creatable) => new(
        ErrorIds.VgpuTypeNotCreatable,
        FailureKind.InvalidOperation,
        $"vGPU type {type} is not creatable on {address} now. Nothing was changed.",
        $"Choose a type it lists now: {(string.Join(", ", creatable) is { Length: > 0 } list ? list : "(none: the GPU is full, or its VFs run another type)")}. The list shrinks as sibling VFs get types.",
        address);

    public static PciPassthroughException VgpuTypeAlreadySet(string address, int current, int wanted) => new(
        ErrorIds.VgpuTypeAlreadySet,
        FailureKind.InvalidOperation,
        $"{address} already runs vGPU type {current}; refusing to replace it with {wanted}. Nothing was changed.",
        "Clear it first (Clear-PciVgpuType), or add -Force to replace it.",
        address);

    public static PciPassthroughException VgpuTypeChangeFailed(string address, string detail, Exception? inner = null) => new(
        ErrorIds.VgpuTypeChangeFailed,
        FailureKind.WriteError,
        $"Changing the vGPU type of {address} failed: {detail}",
        "Check dmesg and nvidia-smi vgpu; a VF still used by a guest cannot change its type.",
        address,
        inner);

    public static PciPassthroughException VgpuFunctionInUse(PciDevice vf) => new(
        ErrorIds.InUse,
        FailureKind.ResourceBusy,
        $"Refusing to change the vGPU type of {vf.PciAddress}: it is held by {VfioUser.Describe(vf.InUse)}. Nothing was changed.",
        VfioUser.StopAdvice(vf.InUse),
        vf.PciAddress);

    public static PciPassthroughException SriovManageInvalidTarget(string target) => new(
        ErrorIds.InvalidAddress,
        FailureKind.InvalidArgument,
        $"'{target}' is neither a PCI address (DDDD:BB:SS.F) nor ALL; sriov-manage was not run.",
        "Give the GPU's physical function, for example 0000:41:00.0, or ALL.",
        target);

    public static PciPassthroughException SriovManageFailed(string target, string detail) => new(
        ErrorIds.SriovManageFailed,
        FailureKind.InvalidOperation,
        $"NVIDIA's sriov-manage did not enable the virtual functions of {target}: {detail}",
        "Install the NVIDIA vGPU host driver (it ships /usr/lib/nvidia/sriov-manage) and check that the GPU is on the nvidia driver.",
        target);
}
