using System.Globalization;
using System.Security;
using PciPassthrough.OpenNebula.Templates;

namespace PciPassthrough.OpenNebula.Placement;

/// <summary>
/// The libvirt <c>&lt;hostdev&gt;</c> element OpenNebula's KVM driver (LibVirtDriverKVM) writes for an
/// assigned device: the PCI form (managed='yes', or managed='no' for an NVIDIA vGPU in MDEV_MODE nvidia) or,
/// for a device with a UUID, the mdev form; then the guest address (VM_BUS form, or the pcie-root-port form
/// with VM_BUS_INDEX), <c>&lt;driver iommufd='yes'/&gt;</c> for IOMMUFD = YES, and
/// <c>&lt;acpi nodeset='...'/&gt;</c> for ACPI_NODES.
/// </summary>
public static class HostdevXml
{
    /// <summary>A PCI device; managed='yes' lets libvirt move it to vfio-pci at VM start.</summary>
    public static string ForPci(PciAddress a) => Pci(a, managed: true, guestAddress: null, iommufd: false, acpiNodes: null);

    /// <summary>A mediated device (an NVIDIA vGPU), by its UUID.</summary>
    public static string ForMdev(string uuid) => Mdev(ParseUuid(uuid), managedNo: false, guestAddress: null, acpiNodes: null);

    /// <summary>Everything the KVM driver writes for a placement's assignment.</summary>
    public static string ForAssignment(PciAssignment assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        var device = assignment.Device;
        var section = assignment.Section;
        var nvidiaMode = string.Equals(device.MdevMode, "nvidia", StringComparison.OrdinalIgnoreCase);
        var guest = GuestAddress(assignment);
        var acpi = string.IsNullOrEmpty(section.AcpiNodes) ? null : section.AcpiNodes;
        return device.Uuid is not null
            ? Mdev(ParseUuid(device.Uuid), nvidiaMode, guest, acpi)
            : Pci(device.Parsed, managed: !nvidiaMode, guest, section.UsesIommufd, acpi);
    }

    /// <summary>
    /// For a section that requests a device by SHORT_ADDRESS (no placement, so no guest address): the
    /// source address, IOMMUFD and ACPI_NODES.
    /// </summary>
    public static string ForSection(PciTemplateSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        if (!section.IsAddressRequest || !PciAddress.TryParse(section.ShortAddress!, out var address))
        {
            throw ErrorCatalog.SectionNamesNoDevice(section.ToString());
        }

        return Pci(address, managed: true, guestAddress: null, section.UsesIommufd, string.IsNullOrEmpty(section.AcpiNodes) ? null : section.AcpiNodes);
    }

    /// <summary>
    /// The guest address element: <c>bus=VM_BUS slot=VM_SLOT</c> for the flat layout; on q35 the device is
    /// the only one on its pcie-root-port, so <c>bus</c> is that controller's index (VM_BUS_INDEX) in hex and
    /// <c>slot='0x00'</c>. Null when the assignment has neither.
    /// </summary>
    public static string? GuestAddress(PciAssignment a)
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.VmBus is not null && a.VmSlot is not null)
        {
            return $"<address type='pci' domain='{a.VmDomain}' bus='{a.VmBus}' slot='{a.VmSlot}' function='{a.VmFunction}'/>";
        }

        if (a.VmBusIndex is not null && int.TryParse(a.VmBusIndex, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            return string.Create(CultureInfo.InvariantCulture, $"<address type='pci' domain='{a.VmDomain}' bus='0x{index:x2}' slot='0x00' function='{a.VmFunction}'/>");
        }

        return null;
    }

    private static string Pci(PciAddress a, bool managed, string? guestAddress, bool iommufd, string? acpiNodes) => string.Create(
        CultureInfo.InvariantCulture,
        $"<hostdev mode='subsystem' type='pci' managed='{(managed ? "yes" : "no")}'>\n  <source>\n    <address domain='0x{a.DomainNumber:x4}' bus='0x{a.BusNumber:x2}' slot='0x{a.SlotNumber:x2}' function='0x{a.FunctionNumber:x}'/>\n  </source>\n{Extras(guestAddress, iommufd, acpiNodes)}</hostdev>");

    private static string Mdev(Guid uuid, bool managedNo, string? guestAddress, string? acpiNodes) =>
        $"<hostdev mode='subsystem' type='mdev' model='vfio-pci'{(managedNo ? " managed='no'" : "")}>\n  <source>\n    <address uuid='{uuid:D}'/>\n  </source>\n{Extras(guestAddress, false, acpiNodes)}</hostdev>";

    private static string Extras(string? guestAddress, bool iommufd, string? acpiNodes) =>
        (guestAddress is null ? "" : $"  {guestAddress}\n")
        + (iommufd ? "  <driver iommufd='yes'/>\n" : "")
        + (acpiNodes is null ? "" : $"  <acpi nodeset='{SecurityElement.Escape(acpiNodes)}'/>\n");

    private static Guid ParseUuid(string uuid) =>
        Guid.TryParseExact(uuid, "D", out var parsed)
            ? parsed
            : throw ErrorCatalog.InvalidUuid(uuid);
}
