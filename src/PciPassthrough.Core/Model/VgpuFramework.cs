namespace PciPassthrough;

/// <summary>How vGPUs are created on a PCI function (OpenNebula's MDEV_MODE: legacy or nvidia).</summary>
public enum VgpuFramework
{
    None,

    /// <summary>A mediated-device parent: New-MediatedDevice creates its vGPUs.</summary>
    Mdev,

    /// <summary>NVIDIA's vendor-specific VFIO framework: Set-PciVgpuType writes the VF's current_vgpu_type.</summary>
    NvidiaVendor,
}
