using System.Globalization;

namespace PciPassthrough.OpenNebula.Placement;

/// <summary>The libvirt <c>&lt;hostdev&gt;</c> element OpenNebula's KVM driver writes for an assigned device.</summary>
public static class HostdevXml
{
    /// <summary>A PCI device; managed='yes' lets libvirt move it to vfio-pci at VM start.</summary>
    public static string ForPci(PciAddress a) => string.Create(
        CultureInfo.InvariantCulture,
        $"<hostdev mode='subsystem' type='pci' managed='yes'>\n  <source>\n    <address domain='0x{a.DomainNumber:x4}' bus='0x{a.BusNumber:x2}' slot='0x{a.SlotNumber:x2}' function='0x{a.FunctionNumber:x}'/>\n  </source>\n</hostdev>");

    /// <summary>A mediated device (an NVIDIA vGPU), by its UUID.</summary>
    public static string ForMdev(string uuid)
    {
        if (!Guid.TryParseExact(uuid, "D", out var parsed))
        {
            throw new PciPassthroughException(ErrorIds.InvalidAddress, FailureKind.InvalidArgument, $"'{uuid}' is not a UUID.", "Give the mdev UUID as the probe's UUID attribute prints it, for example e4042b96-e63d-56cf-bcc8-4e6eecccc12e.", uuid);
        }

        return $"<hostdev mode='subsystem' type='mdev' model='vfio-pci'>\n  <source>\n    <address uuid='{parsed:D}'/>\n  </source>\n</hostdev>";
    }
}
