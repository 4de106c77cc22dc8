using System.Management.Automation;
using PciPassthrough.HostFs;
using PciPassthrough.OpenNebula;

namespace PciPassthrough.PowerShell.Common;

/// <summary>Where pci.conf is, and reading it through the isolated YAML context.</summary>
internal static class ProbeFilterFiles
{
    public const string DefaultHostPath = "/var/lib/one/remotes/etc/im/kvm-probes.d/pci.conf";

    /// <summary>An explicit -Path is a PowerShell path; without one, OpenNebula's location under -Root.</summary>
    public static string Locate(PSCmdlet cmdlet, string? path, HostRoot root) =>
        path is null ? root.Resolve(DefaultHostPath) : cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

    public static PciProbeFilter Read(string fullPath)
    {
        string text;
        try
        {
            text = PciPassthrough.HostFs.BoundedFile.ReadText(fullPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ErrorCatalog.ProbeFilterUnreadable(fullPath, e);
        }

        return DependencyLoadContext.ProbeFilterFormat.Parse(text, fullPath);
    }
}
