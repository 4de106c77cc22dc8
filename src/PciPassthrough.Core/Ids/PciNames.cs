namespace PciPassthrough.Ids;

/// <summary>
/// Names exactly as lspci prints them (pciutils lib/names.c), so that the module's names, OpenNebula's
/// probe output and lspci agree: an unknown id reads <c>Device [7777]</c>, a class without a known
/// subclass reads with the full class number.
/// </summary>
internal static class PciNames
{
    public static string Vendor(PciIdDatabase db, int vendor) =>
        db.FindVendor(vendor) ?? $"Vendor [{vendor:x4}]";

    public static string Device(PciIdDatabase db, int vendor, int device) =>
        db.FindDevice(vendor, device) ?? $"Device [{device:x4}]";

    public static string SubsystemVendor(PciIdDatabase db, int subVendor) =>
        db.FindVendor(subVendor) ?? $"Unknown vendor [{subVendor:x4}]";

    /// <summary>
    /// The device's own subsystem entry, else a generic one (an <c>S</c> block), else, for a card whose
    /// subsystem ids equal its device ids, the device name: pciutils' id_lookup_subsys order. With
    /// <paramref name="hwdb"/> (the host has udev's hwdb.bin, <see cref="UdevHwdb"/>), an unknown subsystem takes
    /// the device's name before the generic entry, as lspci's hwdb lookup of <c>pci:v…d…sv…sd…</c> matches the
    /// device's own <c>pci:v…d…*</c> entry (a VF: <c>MT27800 Family [ConnectX-5 Virtual Function] [0020]</c>).
    /// </summary>
    public static string Subsystem(PciIdDatabase db, int vendor, int device, int subVendor, int subDevice, bool hwdb = false)
    {
        var name = db.FindSubsystem(vendor, device, subVendor, subDevice)
            ?? (hwdb ? db.FindDevice(vendor, device) : null)
            ?? db.FindGenericSubsystem(subVendor, subDevice);
        if (name is null && vendor == subVendor && device == subDevice)
        {
            name = db.FindDevice(vendor, device);
        }

        return name ?? $"Device [{subDevice:x4}]";
    }

    /// <summary>
    /// lspci's class column, in every output mode: the subclass name; else the class name followed by the
    /// full number (<c>Unassigned class [ff00]</c>), as pciutils always adds it then; else <c>Class [xxxx]</c>.
    /// </summary>
    public static string Class(PciIdDatabase db, int cls, int subclass) =>
        db.FindSubclass(cls, subclass)
        ?? (db.FindClass(cls) is string name ? $"{name} [{cls:x2}{subclass:x2}]" : $"Class [{cls:x2}{subclass:x2}]");
}
