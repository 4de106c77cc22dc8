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
    public const string NotRoot = "NotRunningAsRoot";
    public const string IommuNotActive = "IommuNotActive";
    public const string NotAnEndpoint = "DeviceIsNotAnEndpoint";
    public const string CarriesDefaultRoute = "DeviceCarriesDefaultRoute";
    public const string HoldsMountedStorage = "DeviceHoldsMountedStorage";
    public const string BootVga = "DeviceIsBootVga";
    public const string InUse = "DeviceInUse";
    public const string GroupNotIsolated = "IommuGroupNotIsolated";
    public const string VfioPciUnavailable = "VfioPciUnavailable";
    public const string DriverUnavailable = "DriverUnavailable";
    public const string BindingFailed = "VfioBindingFailed";
    public const string DeviceStranded = "DeviceLeftWithoutDriver";
    public const string LockTimeout = "BindingLockTimeout";
    public const string RootMismatch = "OneRootPerCall";
    public const string HasActiveVfs = "DeviceHasActiveVirtualFunctions";
    public const string OutsideRoot = "PathOutsideRoot";
    public const string ProbeFilterInvalid = "InvalidProbeFilterFile";
    public const string ProbeFilterUnreadable = "ProbeFilterFileUnreadable";
    public const string ConfigFileInvalid = "InvalidConfigurationFile";
    public const string ConfigWriteFailed = "ConfigurationWriteFailed";
    public const string InvalidTemplateSection = "InvalidPciTemplateSection";
    public const string TemplateSyntax = "PciTemplateSyntaxError";
    public const string TemplateUnreadable = "PciTemplateUnreadable";
    public const string InvalidHostInventory = "InvalidPciHostInventory";
    public const string ObjectFromAnotherHost = "ObjectFromAnotherHost";
    public const string ConfigurationInputRejected = "ConfigurationInputRejected";
    public const string DeviceNamePatternTimeout = "DeviceNamePatternTimeout";
    public const string InvalidBlacklistDriver = "InvalidBlacklistDriver";
    public const string InvalidUuid = "InvalidMediatedDeviceUuid";
    public const string HostInventoryUnreadable = "PciHostInventoryUnreadable";

    /// <summary>An I/O failure nobody anticipated while a command was changing the host.</summary>
    public const string HostChangeFailed = "HostChangeFailed";

    // The binding journal, lock and state directory (crash safety of Binding/*).
    public const string JournalNeedsAttention = "BindingJournalNeedsAttention";
    public const string JournalUnreadable = "BindingJournalUnreadable";
    public const string LockUnavailable = "BindingLockUnavailable";
    public const string StateDirectoryUnsafe = "BindingStateDirectoryUnsafe";

    // Issue 16: topology, isolation and reset.
    public const string HostCritical = "DeviceIsHostCritical";
    public const string ResetNotSupported = "ResetNotSupported";
    public const string BusResetAffectsOthers = "BusResetAffectsOthers";
    public const string ResetMethodUnsupported = "ResetMethodUnsupported";
    public const string ResetFailed = "ResetFailed";
    public const string ResetTimedOut = "ResetTimedOut";

    // issue 13: OpenNebula guest addresses and hostdev forms
    public const string InvalidPlacementOptions = "InvalidPciPlacementOptions";

    // Boot loaders beyond GRUB (issue 11).
    public const string KernelCommandLineUnknown = "KernelCommandLineUnknown";

    // Issue 12: hostile input and crash safety (configuration writes, locks, input limits).
    public const string LockFileNotTrusted = "LockFileNotTrusted";
    public const string ConfigurationLockTimeout = "ConfigurationLockTimeout";
    public const string ConfigurationPartiallyRestored = "ConfigurationPartiallyRestored";
    public const string InputTooComplex = "InputTooComplex";

    // Issue 15: SR-IOV virtual functions (Sriov/*, Errors/Catalog/SriovErrors.cs).
    public const string NotAnSriovPhysicalFunction = "NotAnSriovPhysicalFunction";
    public const string VirtualFunctionCountOutOfRange = "VirtualFunctionCountOutOfRange";
    public const string PhysicalFunctionHasNoDriver = "PhysicalFunctionHasNoDriver";
    public const string PhysicalFunctionOnVfio = "PhysicalFunctionOnVfio";
    public const string VirtualFunctionInUse = "VirtualFunctionInUse";
    public const string VirtualFunctionsBoundToVfio = "VirtualFunctionsBoundToVfio";
    public const string PhysicalFunctionIsHostCritical = "PhysicalFunctionIsHostCritical";
    public const string NvidiaUseSriovManage = "NvidiaUseSriovManage";
    public const string SriovWriteTimeout = "SriovWriteTimeout";
    public const string SriovWriteFailed = "SriovWriteFailed";
    public const string PhysicalFunctionHasNoNetworkInterface = "PhysicalFunctionHasNoNetworkInterface";
    public const string VirtualFunctionAttributeUnsupported = "VirtualFunctionAttributeUnsupported";
    public const string InvalidMacAddress = "InvalidMacAddress";
    public const string InvalidVlanId = "InvalidVlanId";
    public const string VirtualFunctionConfigurationFailed = "VirtualFunctionConfigurationFailed";
    public const string IpCommandUnavailable = "IpCommandUnavailable";
    // issue 13 (OpenNebula VM side): host filter attributes and assignment drift; issue 16 leftovers (reset)
    public const string NoPassthroughDevices = "NoPassthroughDevices";
    public const string AmbiguousHostInventory = "AmbiguousHostInventory";
    public const string HostNotInInventory = "HostNotInInventory";
    public const string VgpuVirtualFunction = "VgpuVirtualFunction";
    // Issue 17: mediated devices (mdev, mdevctl definitions) and NVIDIA vGPU.
    public const string MediatedDeviceParentNotFound = "MediatedDeviceParentNotFound";
    public const string MediatedDeviceTypeNotFound = "MediatedDeviceTypeNotFound";
    public const string MediatedDeviceTypeExhausted = "MediatedDeviceTypeExhausted";
    public const string MediatedDeviceExists = "MediatedDeviceExists";
    public const string MediatedDeviceNotFound = "MediatedDeviceNotFound";
    public const string MediatedDeviceInUse = "MediatedDeviceInUse";
    public const string MediatedDeviceCreateFailed = "MediatedDeviceCreateFailed";
    public const string MediatedDeviceRemoveFailed = "MediatedDeviceRemoveFailed";
    public const string MediatedDeviceConfigInvalid = "MediatedDeviceConfigInvalid";
    public const string InvalidMediatedDeviceAttribute = "InvalidMediatedDeviceAttribute";
    public const string InvalidMediatedDeviceRequest = "InvalidMediatedDeviceRequest";
    public const string VgpuNotSupported = "VgpuNotSupported";
    public const string VgpuTypeNotCreatable = "VgpuTypeNotCreatable";
    public const string VgpuTypeAlreadySet = "VgpuTypeAlreadySet";
    public const string VgpuTypeChangeFailed = "VgpuTypeChangeFailed";
    public const string SriovManageFailed = "SriovManageFailed";
    public const string ProbeFilterValueUnusable = "ProbeFilterValueUnusable";
    // Issue 15 leftovers: Set-PciVirtualFunction's journal.
    public const string VirtualFunctionJournalUnreadable = "VirtualFunctionJournalUnreadable";
}
