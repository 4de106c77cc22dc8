using System.Globalization;
using System.Security;
using PciPassthrough.OpenNebula.Templates;

namespace PciPassthrough.OpenNebula.Placement;

/// <summary>
/// The libvirt <c>&lt;hostdev&gt;</c> element OpenNebula's KVM driver (LibVirtDriverKVM) writes for an
/// assigned device, in its order: the mdev form for a device with a UUID in MDEV_MODE legacy (or none), else
/// the PCI form (managed='yes', or managed='no' for MDEV_MODE nvidia); then <c>&lt;driver iommufd='yes'/&gt;</c>
/// for IOMMUFD = YES, <c>&lt;acpi nodeset='...'/&gt;</c> for ACPI_NODES, and the guest address (the
/// VM_BUS_INDEX form, else the VM_DOMAIN/VM_BUS/VM_SLOT/VM_FUNCTION form).
/// </summary>
public static class HostdevXml
{
    /// <summary>A PCI device; managed='yes' lets libvirt move it to vfio-pci at VM start.</summary>
    public static string ForPci(PciAddress a) => Pci(a, managed: true, guestAddress: null, iommufd: false, acpiNodes: null);

    /// <summary>A mediated device (an NVIDIA vGPU), by its UUID.</summary>
    public static string ForMdev(string uuid) => Mdev(ParseUuid(uuid), guestAddress: null, iommufd: false, acpiNodes: null);

    /// <summary>Everything the KVM driver writes for a placement's assignment.</summary>
    public static string ForAssignment(PciAssignment assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        var device = assignment.Device;
        var section = assignment.Section;
        var nvidiaMode = string.Equals(device.MdevMode, "nvidia", StringComparison.OrdinalIgnoreCase);
        var guest = GuestAddress(assignment);
        var acpi = string.IsNullOrEmpty(section.AcpiNodes) ? null : section.AcpiNodes;
        var legacyOrNone = string.IsNullOrEmpty(device.MdevMode) || string.Equals(device.MdevMode, "legacy", StringComparison.OrdinalIgnoreCase);
        return device.Uuid is not null && legacyOrNone
            ? Mdev(ParseUuid(device.Uuid), guest, section.UsesIommufd, acpi)
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
    /// The guest address element as the KVM driver writes it: with VM_BUS_INDEX (the NUMA layout)
    /// <c>domain='0x0000' slot='0x00' function='0x0' bus='INDEX'</c>, the index in decimal as OpenNebula
    /// stores it; else, when all four are set, VM_DOMAIN, VM_BUS, VM_SLOT and VM_FUNCTION as they are. Null
    /// when the assignment has neither.
    /// </summary>
    public static string? GuestAddress(PciAssignment a)
    {
        ArgumentNullException.ThrowIfNull(a);
        if (!string.IsNullOrEmpty(a.VmBusIndex))
        {
            return $"<address type='pci' domain='0x0000' slot='0x00' function='0x0' bus='{SecurityElement.Escape(a.VmBusIndex)}'/>";
        }

        if (a.VmDomain is not null && a.VmBus is not null && a.VmSlot is not null && a.VmFunction is not null)
        {
            return $"<address type='pci' domain='{a.VmDomain}' bus='{a.VmBus}' slot='{a.VmSlot}' function='{a.VmFunction}'/>";
        }

        return null;
    }

    private static string Pci(PciAddress a, bool managed, string? guestAddress, bool iommufd, string? acpiNodes) => string.Create(
        CultureInfo.InvariantCulture,
        $"<hostdev mode='subsystem' type='pci' managed='{(managed ? "yes" : "no")}'>\n  <source>\n    <address domain='0x{a.DomainNumber:x4}' bus='0x{a.BusNumber:x2}' slot='0x{a.SlotNumber:x2}' function='0x{a.FunctionNumber:x}'/>\n  </source>\n{Extras(guestAddress, iommufd, acpiNodes)}</hostdev>");

    private static string Mdev(Guid uuid, string? guestAddress, bool iommufd, string? acpiNodes) =>
        $"<hostdev mode='subsystem' type='mdev' model='vfio-pci'>\n  <source>\n    <address uuid='{uuid:D}'/>\n  </source>\n{Extras(guestAddress, iommufd, acpiNodes)}</hostdev>";

    // The driver's order: iommufd, acpi, then the guest address.
    private static string Extras(string? guestAddress, bool iommufd, string? acpiNodes) =>
        (iommufd ? "  <driver iommufd='yes'/>\n" : "")
        + (acpiNodes is null ? "" : $"  <acpi nodeset='{SecurityElement.Escape(acpiNodes)}'/>\n")
        + (guestAddress is null ? "" : $"  {guestAddress}\n");

    private static Guid ParseUuid(string uuid) =>
        Guid.TryParseExact(uuid, "D", out var parsed)
            ? parsed
            : throw ErrorCatalog.InvalidUuid(uuid);
}
