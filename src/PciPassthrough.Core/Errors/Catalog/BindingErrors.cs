namespace PciPassthrough;

/// <summary>Binding and unbinding: the lock, the journal, drivers, and a failed or stranded device.</summary>
public static partial class ErrorCatalog
{
    public static PciPassthroughException LockTimeout(string path, TimeSpan timeout) => new(
        ErrorIds.LockTimeout, FailureKind.ResourceBusy,
        $"Another binding held {path} for longer than {timeout.TotalSeconds:0} s.",
        "Wait for the other Set-VfioBinding or Remove-VfioBinding to finish, or raise -LockTimeout.",
        path);

    public static PciPassthroughException LockNeedsRoot(string path, string why, Exception? inner) => new(
        ErrorIds.NotRoot, FailureKind.PermissionDenied,
        $"Cannot open the binding lock {path}: {why}",
        "Run as root.",
        path, inner);

    public static PciPassthroughException LockUnavailable(string path, string why, Exception? inner) => new(
        ErrorIds.LockUnavailable, FailureKind.WriteError,
        $"Cannot use the binding lock {path}: {why}. Nothing was changed.",
        $"Make '{path}' a regular file that root can write (remove a directory or link in its place), on a writable filesystem.",
        path, inner);

    public static PciPassthroughException StateDirectoryUnsafe(string directory, string? target) => new(
        ErrorIds.StateDirectoryUnsafe, FailureKind.PermissionDenied,
        $"Refusing to use the binding state directory '{directory}': it is a symbolic link (to '{target}'), so its files could be written anywhere. Nothing was changed.",
        $"Replace the link with a directory owned by root (mode 0755): rm '{directory}'; the next call creates it.",
        directory);

    public static PciPassthroughException JournalUnreadable(string path, string why, Exception? inner) => new(
        ErrorIds.JournalUnreadable, FailureKind.ReadError,
        $"The binding journal '{path}' cannot be read ({why}), so the devices of an interrupted binding are unknown; no device was changed.",
        $"Look at the file, put each device it names where it belongs by hand, then clear it with 'Remove-VfioBinding -ClearJournal' (or delete '{path}').",
        path, inner);

    public static PciPassthroughException JournalNeedsAttention(string journal, string address, string? driver, string why, Exception? inner) => new(
        ErrorIds.JournalNeedsAttention, FailureKind.InvalidOperation,
        $"An earlier binding did not finish, and its journal '{journal}' says to return {address} to {driver ?? "no driver"}, which is not safe now: {why}. No device was changed.",
        $"Stop the guest and run the command again to let it return the devices; or, once each device the journal names is where it should be, clear the journal with 'Remove-VfioBinding -ClearJournal' (or delete '{journal}').",
        address, inner);

    public static PciPassthroughException BindingNeedsRoot(string rootPath) => new(
        ErrorIds.NotRoot, FailureKind.PermissionDenied,
        "Changing a device's driver needs root: sysfs driver files are writable by root only.",
        "Run PowerShell as root (sudo pwsh), or use -WhatIf to see what would change.",
        rootPath);

    /// <param name="peers">The group's other devices that are still on host drivers, as "address (name, on driver)".</param>
    public static PciPassthroughException GroupNotIsolated(string address, int? group, IEnumerable<string> peers) => new(
        ErrorIds.GroupNotIsolated, FailureKind.InvalidOperation,
        $"Refusing to bind {address}: IOMMU group {group} also holds {string.Join(", ", peers)}; the group is usable only when they leave their host drivers too.",
        "Add -IncludeGroup to bind the whole group, after checking that the host does not need those devices.",
        address);

    public static PciPassthroughException BootGroupNotIsolated(string address, int? group, IEnumerable<string> peers) => new(
        ErrorIds.GroupNotIsolated, FailureKind.InvalidOperation,
        $"Refusing to bind {address} at boot: IOMMU group {group} also holds {string.Join(", ", peers)}, which would stay on the host at boot, so no guest could use the group. Nothing was written.",
        "Add -IncludeGroup to bind the whole group at boot, after checking that the host does not need those devices.",
        address);

    public static PciPassthroughException InUseForUnbind(PciDevice device) => new(
        ErrorIds.InUse, FailureKind.ResourceBusy,
        $"Refusing to unbind {device.PciAddress}: it is held by {VfioUser.Describe(device.InUse)}.",
        VfioUser.StopAdvice(device.InUse, "use -Force"),
        device.PciAddress);

    public static PciPassthroughException VfioPciUnavailable(string driver) => new(
        ErrorIds.VfioPciUnavailable, FailureKind.InvalidOperation,
        "The vfio-pci driver is not loaded and 'modprobe vfio-pci' failed; no device was changed.",
        "Install the kernel's vfio modules and check Test-IommuSupport; then modprobe vfio-pci.",
        driver);

    public static PciPassthroughException DriverLoadFailed(string driver, string address, string module) => new(
        ErrorIds.DriverUnavailable, FailureKind.InvalidOperation,
        $"The driver {driver} for {address} is not loaded and 'modprobe {module}' failed; no device was changed.",
        "Load the driver, or name another with -Driver.",
        address);

    public static PciPassthroughException NoHostDriverKnown(string address) => new(
        ErrorIds.DriverUnavailable, FailureKind.InvalidOperation,
        $"No host driver is known for {address}: it was not bound by this module and no module alias matches it; it stays on vfio-pci.",
        "Name the driver with -Driver.",
        address);

    public static PciPassthroughException NoSuchDriver(string driver, string address) => new(
        ErrorIds.DriverUnavailable, FailureKind.InvalidOperation,
        $"There is no driver {driver} for {address}: it is not loaded, and no kernel module of that name or for this device exists.",
        "Name a driver that 'modinfo' knows, or leave -Driver out to return the device to the driver it had.",
        address);

    /// <param name="restored">What every device of the call is back to, described for the message.</param>
    public static PciPassthroughException BindingFailed(string action, string address, string step, string detail, string restored, Exception inner) => new(
        ErrorIds.BindingFailed, FailureKind.WriteError,
        $"Could not {action} {address} ({step}: {detail}). Every device of the call is back where it was: {restored}.",
        "Check dmesg for the driver's complaint; Test-PciPassthroughReadiness lists the usual causes.",
        address, inner);

    public static PciPassthroughException DeviceStranded(IReadOnlyCollection<string> stranded, Exception? cause) => new(
        ErrorIds.DeviceStranded, FailureKind.WriteError,
        $"Could not return {string.Join("; ", stranded)}.",
        "Bind it by hand: echo <address> > /sys/bus/pci/drivers/<driver>/bind (the next Set-VfioBinding or Remove-VfioBinding also retries).",
        string.Join(",", stranded), cause);
}
