namespace PciPassthrough.Iommu;

/// <summary>Whether a host can pass devices through, and every check behind that answer.</summary>
public sealed class IommuSupportReport
{
    public IommuSupportReport(IReadOnlyList<ReadinessCheck> checks, string? cpuVendor, string? iommuType, string? kernelRelease, string root)
    {
        Checks = checks.ToArray();
        Supported = checks.All(c => c.Status != CheckStatus.Fail);
        CpuVendor = cpuVendor;
        IommuType = iommuType;
        KernelRelease = kernelRelease;
        Root = root;
    }

    /// <summary>True when no check failed.</summary>
    public bool Supported { get; }

    public ReadinessCheck[] Checks { get; }

    /// <summary><c>GenuineIntel</c>, <c>AuthenticAMD</c>, or null when /proc/cpuinfo says neither.</summary>
    public string? CpuVendor { get; }

    /// <summary><c>Intel VT-d</c> or <c>AMD-Vi</c>, from the firmware table; null when none was found.</summary>
    public string? IommuType { get; }

    public string? KernelRelease { get; }

    public string Root { get; }

    public override string ToString() => Supported ? "Supported" : "Not supported: " + string.Join("; ", Checks.Where(c => c.Status == CheckStatus.Fail).Select(c => c.Name));
}
