namespace PciPassthrough.Iommu;

/// <summary>One finding: what was checked, the verdict, what was seen, and how to fix it.</summary>
public sealed class ReadinessCheck
{
    public ReadinessCheck(string name, CheckStatus status, string detail, string? remedy = null)
    {
        Name = name;
        Status = status;
        Detail = detail;
        Remedy = status is CheckStatus.Pass or CheckStatus.NotApplicable ? null : remedy;
    }

    public string Name { get; }

    public CheckStatus Status { get; }

    public string Detail { get; }

    /// <summary>What to do about a Fail or Warning; null when nothing needs doing.</summary>
    public string? Remedy { get; }

    public override string ToString() => $"{Name}: {Status} ({Detail})";
}
