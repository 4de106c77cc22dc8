using PciPassthrough.Binding;

namespace PciPassthrough;

/// <summary>The SR-IOV errors (issue 15): what happened, and what to do about it.</summary>
public static partial class ErrorCatalog
{
    public static PciPassthroughException NotAnSriovPhysicalFunction(PciDevice device, string nor = "") => new(
        ErrorIds.NotAnSriovPhysicalFunction,
        FailureKind.InvalidArgument,
        $"{device.PciAddress} ({device.DeviceName}) is {(device.SriovRole == SriovRole.VF ? $"a virtual function of {device.PhysicalFunction}, not a physical function" : $"not an SR-IOV physical function{nor}")}: it has no sriov_totalvfs.",
        "Give a PF's address: Get-PciDevice | Where-Object SriovRole -eq 'PF' lists them.",
        device.PciAddress);

    public static PciPassthroughException VirtualFunctionCountOutOfRange(PciDevice pf, string requested, string? kernelSaid = null) => new(
        ErrorIds.VirtualFunctionCountOutOfRange,
        FailureKind.InvalidArgument,
        $"{pf.PciAddress} cannot have {requested} virtual functions: it offers 0 to {pf.TotalVfs?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "an unknown number"} (sriov_totalvfs){kernelSaid}. Nothing was changed.",
        "Choose a count within sriov_totalvfs, or -Maximum. Some cards cap it in firmware (Mellanox: mlxconfig SRIOV_EN/NUM_OF_VFS, then a reboot).",
        pf.PciAddress);

    public static PciPassthroughException PhysicalFunctionHasNoDriver(PciDevice pf, string? kernelSaid = null) => new(
        ErrorIds.PhysicalFunctionHasNoDriver,
        FailureKind.InvalidOperation,
        kernelSaid is null
            ? $"{pf.PciAddress} ({pf.DeviceName}) has no driver bound, and the kernel enables VFs only through the PF's driver. Nothing was changed."
            : $"The kernel refused to change the VFs of {pf.PciAddress} (ENOENT): its driver {pf.Driver ?? "(none)"} does not configure SR-IOV through sysfs{kernelSaid}.",
        $"Bind the PF's own driver (modprobe it), or, for a PF that needs no host driver, pci-pf-stub: modprobe pci-pf-stub; echo pci-pf-stub > /sys/bus/pci/devices/{pf.PciAddress}/driver_override; echo {pf.PciAddress} > /sys/bus/pci/drivers_probe.",
        pf.PciAddress);

    public static PciPassthroughException PhysicalFunctionOnVfio(PciDevice pf) => new(
        ErrorIds.PhysicalFunctionOnVfio,
        FailureKind.InvalidOperation,
        $"{pf.PciAddress} is bound to vfio-pci, which enables VFs only when loaded with enable_sriov=1 (it is not). Nothing was changed.",
        $"Return the PF to its host driver (Remove-VfioBinding -Address {pf.PciAddress}), or load vfio-pci with enable_sriov=1 if a guest is meant to drive the PF.",
        pf.PciAddress);

    public static PciPassthroughException VirtualFunctionInUse(PciDevice pf, IEnumerable<string> held, string? kernelSaid = null, IEnumerable<VfioUser>? users = null) => new(
        ErrorIds.VirtualFunctionInUse,
        FailureKind.ResourceBusy,
        kernelSaid ?? $"Refusing to change the VF count of {pf.PciAddress}: its VFs are in use ({string.Join("; ", held)}). The kernel removes a VF under a running guest without complaint, or blocks until the guest lets go; -Force does not override this. Nothing was changed.",
        users is null ? "Stop the guests (or processes) that hold the VFs first." : VfioUser.StopAdvice(users),
        pf.PciAddress);

    public static PciPassthroughException VirtualFunctionsBoundToVfio(PciDevice pf, IEnumerable<string> bound) => new(
        ErrorIds.VirtualFunctionsBoundToVfio,
        FailureKind.InvalidOperation,
        $"Refusing to remove the VFs of {pf.PciAddress}: {string.Join(", ", bound)} are bound to vfio-pci, configured for guests (none is in use now). Nothing was changed.",
        "Check that no guest is about to start with them, then use -Force.",
        pf.PciAddress);

    public static PciPassthroughException PhysicalFunctionIsHostCritical(PciDevice pf, string why, string? remedy) => new(
        ErrorIds.PhysicalFunctionIsHostCritical,
        FailureKind.InvalidOperation,
        $"Refusing to change the VF count of {pf.PciAddress} ({pf.DeviceName}): {why}. Some PF drivers reinitialise the port when the count changes. Nothing was changed.",
        (remedy is null ? "" : remedy + " ") + "-Force changes it anyway, from a console that does not depend on it.",
        pf.PciAddress);

    public static PciPassthroughException NvidiaUseSriovManage(PciDevice pf) => new(
        ErrorIds.NvidiaUseSriovManage,
        FailureKind.InvalidOperation,
        $"{pf.PciAddress} is an NVIDIA GPU on the nvidia driver: NVIDIA supports enabling its VFs only through its own sriov-manage tool, never by writing sriov_numvfs. Nothing was changed.",
        $"Run /usr/lib/nvidia/sriov-manage -e {pf.PciAddress} (-d disables).",
        pf.PciAddress);

    public static PciPassthroughException SriovWriteTimeout(PciDevice pf, string hostPath, string value, TimeSpan timeout, IReadOnlyCollection<string> holders) => new(
        ErrorIds.SriovWriteTimeout,
        FailureKind.WriteError,
        $"Writing '{value}' to {hostPath} did not return within {timeout.TotalSeconds:0} s; the write is still pending in the kernel (a task blocked in D state). {(holders.Count > 0 ? $"Holding the VFs: {string.Join("; ", holders)}." : "No process holds a VF's /dev/vfio group; the PF driver or the device may hang.")}",
        holders.Count > 0
            ? "Stop those processes (vfio-pci waits until the device fd is released); the write then completes. Check Get-PciVirtualFunction afterwards."
            : "Check dmesg; the PF may need a reset or the host a reboot.",
        pf.PciAddress);

    public static PciPassthroughException SriovWriteFailed(PciDevice pf, string hostPath, string value, string why, Exception? inner = null) => new(
        ErrorIds.SriovWriteFailed,
        FailureKind.WriteError,
        $"Writing '{value}' to {hostPath} failed: {why}",
        "Check dmesg for the PF driver's complaint, and Get-PciVirtualFunction for the state it left.",
        pf.PciAddress,
        inner);

    /// <summary>
    /// What the kernel's answer to a <c>sriov_numvfs</c> write means (drivers/pci/iov.c sriov_numvfs_store):
    /// ENOENT no driver or no sriov_configure, ERANGE above sriov_totalvfs, EINVAL not a number, EBUSY VFs
    /// enabled meanwhile (by another tool: this module writes 0 first), EPERM VFs assigned to guests.
    /// </summary>
    public static PciPassthroughException FromSriovWrite(PciDevice pf, string hostPath, string value, Exception e)
    {
        var said = $" (the kernel answered: {e.Message})";
        return e switch
        {
            UnauthorizedAccessException when !Privileges.IsRoot => new(ErrorIds.NotRoot, FailureKind.PermissionDenied, $"Cannot write {hostPath}: {e.Message}", "Run PowerShell as root (sudo pwsh).", pf.PciAddress, e),
            UnauthorizedAccessException => VirtualFunctionInUse(pf, [], $"The kernel refused to change the VFs of {pf.PciAddress} (EPERM): its VFs are assigned to a guest{said}."),
            IOException { HResult: 2 } => pf.Driver == "vfio-pci" ? PhysicalFunctionOnVfio(pf) : PhysicalFunctionHasNoDriver(pf, said),
            IOException { HResult: 34 or 22 } => VirtualFunctionCountOutOfRange(pf, $"'{value}'", said),
            IOException { HResult: 16 } => VirtualFunctionInUse(pf, [], $"The kernel refused to enable {value} VFs on {pf.PciAddress} (EBUSY): VFs are enabled already, by another program between this call's writes{said}."),
            _ => SriovWriteFailed(pf, hostPath, value, e.Message, e),
        };
    }

    public static PciPassthroughException PhysicalFunctionHasNoNetworkInterface(string vf, string pf) => new(
        ErrorIds.PhysicalFunctionHasNoNetworkInterface,
        FailureKind.InvalidOperation,
        $"The PF {pf} of {vf} has no network interface, so its VFs have no admin attributes to set (ip link set dev <pf> vf N ...): it is no NIC, or it is on vfio-pci or pci-pf-stub. Nothing was changed.",
        "Bind the PF's network driver, or configure the VF inside the guest.",
        vf);

    public static PciPassthroughException VirtualFunctionAttributeUnsupported(string vf, string what, string? ipSaid = null) => new(
        ErrorIds.VirtualFunctionAttributeUnsupported,
        FailureKind.InvalidOperation,
        $"The PF driver of {vf} does not support {what}{(ipSaid is null ? " (it reports no such setting)" : $" (ip: {ipSaid})")}.",
        "Leave that attribute out; the PF driver's documentation lists what its VFs support.",
        vf);

    public static PciPassthroughException InvalidMacAddress(string text, string why) => new(
        ErrorIds.InvalidMacAddress,
        FailureKind.InvalidArgument,
        $"'{text}' cannot be a VF's MAC address: {why}. Nothing was changed.",
        "Give a unicast address as six hex octets separated by colons (52:54:00:12:34:56); -Reset clears it.",
        text);

    public static PciPassthroughException InvalidVlanId(string text, string why) => new(
        ErrorIds.InvalidVlanId,
        FailureKind.InvalidArgument,
        $"{text}: {why}. Nothing was changed.",
        "Give -VlanId 0 to 4095 (0: no VLAN), and -VlanQos or -VlanProtocol only with -VlanId.",
        text);

    public static PciPassthroughException VirtualFunctionConfigurationFailed(string vf, string command, string why, string rolledBack) => new(
        ErrorIds.VirtualFunctionConfigurationFailed,
        FailureKind.WriteError,
        $"'{command}' failed for {vf}: {why}. {rolledBack}",
        "Check the values against what the PF driver accepts (dmesg may say more).",
        vf);

    public static PciPassthroughException IpCommandUnavailable(string root) => new(
        ErrorIds.IpCommandUnavailable,
        FailureKind.InvalidOperation,
        root == "/"
            ? "There is no 'ip' (iproute2) on PATH, which sets VF attributes. Nothing was changed."
            : $"Under the captured tree '{root}' the host's own 'ip' would change THIS host's network, so only an 'ip' outside the system directories of PATH is run, and there is none. Nothing was changed.",
        "Install iproute2 (apt-get install iproute2), or run on the host itself.",
        root);

    public static PciPassthroughException SriovNeedsRoot(string rootPath) => new(
        ErrorIds.NotRoot,
        FailureKind.PermissionDenied,
        "Changing the VF count needs root: sriov_numvfs is writable by root only.",
        "Run PowerShell as root (sudo pwsh), or use -WhatIf to see what would change.",
        rootPath);

    public static PciPassthroughException PhysicalFunctionVanished(string address) => new(
        ErrorIds.DeviceNotFound,
        FailureKind.NotFound,
        $"{address} disappeared before its VFs could be changed.",
        "List the host's devices with Get-PciDevice.",
        address);

    public static PciPassthroughException NoSuchVirtualFunctionIndex(string pf, IEnumerable<int> missing, int count) => new(
        ErrorIds.DeviceNotFound,
        FailureKind.NotFound,
        $"{pf} has no VF with index {string.Join(", ", missing)} (it has {count}).",
        "List them with Get-PciVirtualFunction.",
        pf);

    public static PciPassthroughException PhysicalFunctionWhereVirtualFunctionExpected(string text) => new(
        ErrorIds.NotAnSriovPhysicalFunction,
        FailureKind.InvalidArgument,
        $"{text} is a PF; Set-PciVirtualFunction changes VFs.",
        "Name the VFs, or -PhysicalFunction with -Index.",
        text);

    /// <summary>Set-PciVirtualFunction's journal of an interrupted call cannot be read: the VFs it would restore are unknown.</summary>
    public static PciPassthroughException VirtualFunctionJournalUnreadable(string path, string why, Exception? inner) => new(
        ErrorIds.VirtualFunctionJournalUnreadable, FailureKind.ReadError,
        $"The VF journal '{path}' cannot be read ({why}), so the VFs of an interrupted Set-PciVirtualFunction call are unknown; no VF was changed.",
        $"Look at the file (Get-Content '{path}'), give each VF it names its values by hand (Set-PciVirtualFunction), then clear it with 'Set-PciVirtualFunction -ClearJournal' (or delete '{path}').",
        path, inner);
}
