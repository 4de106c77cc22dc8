namespace PciPassthrough;

/// <summary>The errors of mediated devices (issue 17): what happened, and what to do about it.</summary>
public static partial class ErrorCatalog
{
    public static PciPassthroughException MediatedDeviceParentNotFound(string parent, string? like) => new(
        ErrorIds.MediatedDeviceParentNotFound,
        FailureKind.NotFound,
        $"No mediated-device parent '{parent}' in /sys/class/mdev_bus: no loaded driver offers mediated devices under that name.",
        like is not null ? $"Did you mean '{like}'? Parent names are case-sensitive." : "Load the parent's driver (nvidia, i915 with GVT-g, mtty...), then list parents with Get-MediatedDeviceType.",
        parent);

    public static PciPassthroughException MediatedDeviceTypeNotFound(string parent, string type, IEnumerable<string> offered) => new(
        ErrorIds.MediatedDeviceTypeNotFound,
        FailureKind.NotFound,
        $"Parent '{parent}' offers no mediated-device type '{type}'.",
        $"Choose one of its types: {(string.Join(", ", offered) is { Length: > 0 } list ? list : "(none)")} (Get-MediatedDeviceType -Parent {parent}).",
        type);

    public static PciPassthroughException MediatedDeviceTypeExhausted(string parent, string type) => new(
        ErrorIds.MediatedDeviceTypeExhausted,
        FailureKind.ResourceBusy,
        $"No available instances of {type} on {parent}: available_instances is 0. Nothing was created.",
        $"Remove an instance on {parent} (Get-MediatedDevice -Parent {parent}), or choose a type with instances left (Get-MediatedDeviceType -Parent {parent} -Available).",
        type);

    public static PciPassthroughException MediatedDeviceExists(string uuid, string detail) => new(
        ErrorIds.MediatedDeviceExists,
        FailureKind.InvalidOperation,
        $"Mediated device {uuid} {detail}. Nothing was changed.",
        "Choose another UUID, or remove the existing device first (Remove-MediatedDevice -Uuid " + uuid + " [-Undefine]).",
        uuid);

    public static PciPassthroughException MediatedDeviceNotFound(string uuid, string detail) => new(
        ErrorIds.MediatedDeviceNotFound,
        FailureKind.NotFound,
        $"Mediated device {uuid} {detail}.",
        "List the host's mediated devices with Get-MediatedDevice -Defined.",
        uuid);

    public static PciPassthroughException MediatedDeviceInUse(string uuid, int? group, IEnumerable<VfioUser> users) => new(
        ErrorIds.MediatedDeviceInUse,
        FailureKind.ResourceBusy,
        $"Refusing to remove mediated device {uuid}: it is held by {VfioUser.Describe(users)}; a guest is using it. Nothing was changed.",
        VfioUser.StopAdvice(users, "add -Force to remove it anyway (the vendor driver may still refuse)"),
        uuid);

    public static PciPassthroughException MediatedDeviceCreateFailed(string uuid, string detail, Exception? inner = null) => new(
        ErrorIds.MediatedDeviceCreateFailed,
        FailureKind.WriteError,
        $"Creating mediated device {uuid} failed: {detail}",
        "Check dmesg for the parent driver's message; run as root.",
        uuid,
        inner);

    public static PciPassthroughException MediatedDeviceRemoveFailed(string uuid, string detail, Exception? inner = null) => new(
        ErrorIds.MediatedDeviceRemoveFailed,
        FailureKind.WriteError,
        $"Removing mediated device {uuid} failed: {detail}",
        "Stop whatever uses the device (the vendor driver refuses to remove an active vGPU), check dmesg, and retry.",
        uuid,
        inner);

    public static PciPassthroughException MediatedDeviceConfigInvalid(string path, string why) => new(
        ErrorIds.MediatedDeviceConfigInvalid,
        FailureKind.ReadError,
        $"The mdevctl definition {path} is not usable: {why}.",
        "Fix or delete the file (mdevctl rejects it too); a definition is {\"mdev_type\": \"<type>\", \"start\": \"auto\"|\"manual\", \"attrs\": [{\"<name>\": \"<value>\"}]}.",
        path);

    public static PciPassthroughException InvalidMediatedDeviceAttribute(string name) => new(
        ErrorIds.InvalidMediatedDeviceAttribute,
        FailureKind.InvalidArgument,
        $"'{name}' is no mediated-device attribute name: it must be one sysfs file name (no '/', not '.' or '..') with a value.",
        "Give -Attribute an ordered dictionary of file names and values, for example ([ordered]@{ assign_adapter = '0x4' }).",
        name);

    public static PciPassthroughException InvalidMediatedDeviceUuid(string text) => new(
        ErrorIds.InvalidUuid,
        FailureKind.InvalidArgument,
        $"'{text}' is not a UUID.",
        "Give a UUID such as 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 (Get-MediatedDevice lists them); New-MediatedDevice -DeterministicFrom derives one from a name.",
        text);

    public static PciPassthroughException InvalidMediatedDeviceRequest(string detail) => new(
        ErrorIds.InvalidMediatedDeviceRequest,
        FailureKind.InvalidArgument,
        detail,
        "See Get-Help New-MediatedDevice -Parameter Persist, NoStart and StartMode.",
        null);
}
