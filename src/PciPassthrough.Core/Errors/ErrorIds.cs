namespace PciPassthrough;

/// <summary>Stable error identifiers. Renaming one breaks users' scripts: add, never rename.</summary>
public static class ErrorIds
{
    public const string InvalidAddress = "InvalidPciAddress";
    public const string InvalidFilter = "InvalidPciFilter";
    public const string InvalidDeviceNamePattern = "InvalidDeviceNamePattern";
    public const string InvalidClassPattern = "InvalidPciClassPattern";
    public const string InvalidDriverPattern = "InvalidDriverPattern";
    public const string DeviceNotFound = "PciDeviceNotFound";
    public const string RootNotFound = "HostRootNotFound";
    public const string SysfsUnreadable = "PciSysfsUnreadable";
    public const string PciIdsUnreadable = "PciIdsUnreadable";
    public const string NoIommuGroup = "PciDeviceHasNoIommuGroup";
    public const string IommuGroupNotFound = "IommuGroupNotFound";
}
