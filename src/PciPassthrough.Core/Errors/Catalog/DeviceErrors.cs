using System.Text.RegularExpressions;

namespace PciPassthrough;

/// <summary>Naming and finding devices: addresses, patterns, filters, groups, the host root.</summary>
public static partial class ErrorCatalog
{
    public static PciPassthroughException InvalidAddress(string? text) => new(
        ErrorIds.InvalidAddress, FailureKind.InvalidArgument,
        $"'{text}' is not a PCI address.",
        "Give the address as DDDD:BB:SS.F (for example 0000:04:00.0) or BB:SS.F, in hexadecimal, as lspci -D and Get-PciDevice print it.",
        text);

    public static PciPassthroughException InvalidAddressPattern(string text) => new(
        ErrorIds.InvalidAddress, FailureKind.InvalidArgument,
        $"'{text}' is not a PCI address pattern.",
        "Use hex digits, ':' and '.' with the wildcards * ? [ ], for example 0000:0?:00.*",
        text);

    /// <summary>A pci.conf :short_address: entry the probe would never match.</summary>
    public static PciPassthroughException InvalidShortAddress(string text) => new(
        ErrorIds.InvalidAddress, FailureKind.InvalidArgument,
        $"'{text}' is not a short address as lspci prints it, so the probe would never match it.",
        "Give BB:SS.F in lowercase for domain 0000 (0a:00.0, not 0000:0A:00.0) and DDDD:BB:SS.F only outside it.",
        text);

    public static PciPassthroughException DeviceNotFound(string address, string rootPath) => new(
        ErrorIds.DeviceNotFound, FailureKind.NotFound,
        $"No PCI device has the address '{address}' under '{rootPath}'.",
        "List the host's devices with Get-PciDevice and check the address (lspci -D prints the same form).",
        address);

    /// <param name="parameter">How the user gave the pattern: -DeviceName, or pci.conf's :device_name:.</param>
    public static PciPassthroughException InvalidDeviceNamePattern(string pattern, ArgumentException e, string parameter) => new(
        ErrorIds.InvalidDeviceNamePattern, FailureKind.InvalidArgument,
        $"'{pattern}' is not a valid regular expression: {e.Message}",
        $"Give {parameter} .NET regular expressions, for example 'GK104|A100'; escape literal brackets as \\[.",
        pattern, e);

    /// <param name="e">The timeout of one match; null when the call's matches together spent the budget.</param>
    public static PciPassthroughException DeviceNamePatternTimeout(Regex pattern, string name, TimeSpan budget, string parameter, RegexMatchTimeoutException? e) => new(
        ErrorIds.DeviceNamePatternTimeout, FailureKind.InvalidArgument,
        e is null
            ? $"The regular expression '{pattern}' took longer than {budget.TotalSeconds} s in total on the device names, the last '{name}'."
            : $"The regular expression '{pattern}' took longer than {budget.TotalSeconds} s on '{name}'.",
        $"Simplify the {parameter} pattern: avoid nested repetition such as (a+)+ or (.*.*)*.",
        pattern.ToString(), e);

    public static PciPassthroughException InvalidClassPattern(string text) => new(
        ErrorIds.InvalidClassPattern, FailureKind.InvalidArgument,
        $"'{text}' is not a PCI class.",
        "Give the class as 4 hex digits (class and subclass, as OpenNebula's CLASS) or 6 (with the programming interface), e.g. 0300, 03xx or 02*.",
        text);

    public static PciPassthroughException InvalidDriverPattern(string text) => new(
        ErrorIds.InvalidDriverPattern, FailureKind.InvalidArgument,
        $"'{text}' is not a driver name pattern.",
        "Give a driver name such as vfio-pci, or a wildcard such as nvidia*.",
        text);

    public static PciPassthroughException InvalidFilter(string text, string reason) => new(
        ErrorIds.InvalidFilter, FailureKind.InvalidArgument,
        $"Invalid PCI filter '{text}': {reason}.",
        "Write filters as lspci -d does: vendor:device[:class[:prog-if]] in hexadecimal, '*' or empty for any (for example '10de:*' or '*:*:03xx').",
        text);

    public static PciPassthroughException InvalidVendorId(string text) => new(
        ErrorIds.InvalidFilter, FailureKind.InvalidArgument,
        $"'{text}' is not a vendor id.",
        "Give 4 hex digits, e.g. 10de.",
        text);

    public static PciPassthroughException IommuGroupNotFound(int number, string rootPath) => new(
        ErrorIds.IommuGroupNotFound, FailureKind.NotFound,
        $"There is no IOMMU group {number} under '{rootPath}'.",
        "List the groups with Get-IommuGroup; group numbers can change across reboots.",
        number);

    public static PciPassthroughException NoIommuGroup(string address, string target) => new(
        ErrorIds.NoIommuGroup, FailureKind.InvalidOperation,
        $"The device {address} is in no IOMMU group: the IOMMU is off or does not cover it.",
        "Run Test-IommuSupport: enable VT-d/AMD-Vi in the firmware and intel_iommu=on (or amd_iommu=on) on the kernel command line.",
        target);

    public static PciPassthroughException SysfsUnreadable(string directory, bool liveHost, Exception e) => new(
        ErrorIds.SysfsUnreadable, FailureKind.ReadError,
        $"Cannot list PCI devices in '{directory}': {e.Message}",
        liveHost ? "Run on a Linux host with sysfs mounted at /sys." : "Point -Root at a directory that holds sys/bus/pci/devices, as captured from a host.",
        directory, e);

    public static PciPassthroughException PciIdsUnreadable(string path, string reason, Exception? inner) => new(
        ErrorIds.PciIdsUnreadable, FailureKind.ReadError,
        $"Cannot read the PCI ID database '{path}': {reason}.",
        "Install the pci.ids (Debian) or hwdata (Fedora) package, or give a readable file with -PciIdsPath.",
        path, inner);

    public static PciPassthroughException RootNotFound(string path, Exception? inner) => new(
        ErrorIds.RootNotFound, FailureKind.NotFound,
        $"The host root '{path}' does not exist or is not a directory.",
        "Omit -Root to read the live host, or give the directory that holds the captured tree's sys/, proc/ and dev/ folders.",
        path, inner);

    public static PciPassthroughException OutsideRoot(string fullPath, string? resolved, string rootPath) => new(
        ErrorIds.OutsideRoot, FailureKind.PermissionDenied,
        $"Refusing to write '{fullPath}': it resolves to '{resolved}', outside the host root '{rootPath}' (a symbolic link leads out of it).",
        "Replace the link inside the captured tree with a directory; nothing was written.",
        fullPath);

    public static PciPassthroughException RootMismatch(string rootPath, string firstRootPath) => new(
        ErrorIds.RootMismatch, FailureKind.InvalidArgument,
        $"One call changes devices of one host root; '{rootPath}' differs from '{firstRootPath}'.",
        "Call once per root.",
        rootPath);

    public static PciPassthroughException ObjectFromAnotherHost(object target, string host, string command) => new(
        ErrorIds.ObjectFromAnotherHost, FailureKind.InvalidArgument,
        $"{target} came from host '{host}' (PSComputerName); {command} changes only the host it runs on, so it was not acted on here.",
        $"Run it on that host: Invoke-Command -HostName {host} {{ {command} ... }}.",
        target);
}
