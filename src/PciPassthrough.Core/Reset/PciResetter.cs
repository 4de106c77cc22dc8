using System.Diagnostics;
using PciPassthrough.Binding;
using PciPassthrough.HostFs;
using PciPassthrough.Iommu;
using PciPassthrough.Safety;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Reset;

/// <summary>The outcome of one Reset-PciDevice call.</summary>
public sealed class ResetResult
{
    public string PciAddress { get; init; } = "";

    /// <summary>The methods the kernel was allowed to try, in order.</summary>
    public string[] MethodsTried { get; init; } = [];

    public bool Succeeded { get; init; }

    public TimeSpan Duration { get; init; }

    public string Message { get; init; } = "";

    public string Root { get; init; } = "/";

    public override string ToString() => PciAddress;
}

/// <summary>
/// Function resets through the kernel's <c>reset</c> file (<c>pci_reset_function</c>: config space saved and
/// restored, the bound driver notified), optionally restricted for the call through <c>reset_method</c> and
/// restored afterwards. Refuses devices a reset would hurt; every write has a timeout.
/// </summary>
public sealed class PciResetter
{
    /// <summary>The method names the kernel knows (pci_reset_fn_methods), in its default order.</summary>
    public static readonly string[] KnownMethods = ["device_specific", "acpi", "flr", "af_flr", "pm", "bus", "cxl_bus"];

    private readonly HostRoot _root;
    private readonly IKernel _kernel;
    private readonly PciDeviceReader _devices;
    private readonly DeviceSafetyRules _rules;

    public PciResetter(HostRoot root, IKernel kernel, PciDeviceReader devices)
    {
        _root = root;
        _kernel = kernel;
        _devices = devices;
        _rules = new DeviceSafetyRules(root);
    }

    /// <summary>How long one sysfs write may take before the call gives up on it (a reset can hang on broken hardware).</summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The methods a reset would try: the requested ones, or the device's enabled list.</summary>
    public static string[] EffectiveMethods(PciDevice device, IReadOnlyList<string>? methods) =>
        methods is { Count: > 0 } ? methods.ToArray() : device.ResetMethods;

    /// <summary>Throws the refusal for a device that must not be reset (in the documented order), or returns.</summary>
    public void Check(PciDevice device, IReadOnlyList<string>? methods)
    {
        if (device.IsBridge || (device.Class?.StartsWith("06", StringComparison.Ordinal) ?? false))
        {
            throw new PciPassthroughException(ErrorIds.NotAnEndpoint, FailureKind.InvalidOperation, $"Refusing to reset {device.PciAddress} ({device.DeviceName}): it is a bridge ({device.ClassName}), and resetting it resets everything below it.", "Reset the endpoint devices behind the bridge instead.", device.PciAddress);
        }

        // Never, whatever else holds: the nvidia driver owns a vendor-mode vGPU VF (the probe's MDEV_MODE nvidia).
        if (IsVendorModeVgpuVf(device))
        {
            throw ErrorCatalog.VgpuVirtualFunction(device);
        }

        if (device.InUse.Length > 0)
        {
            throw new PciPassthroughException(ErrorIds.InUse, FailureKind.ResourceBusy, $"Refusing to reset {device.PciAddress}: its IOMMU group is open by {string.Join(", ", device.InUse.Select(u => u.ToString()))}; a guest is using it.", "Stop the guest first; vfio-pci resets the device itself when the guest starts and stops.", device.PciAddress);
        }

        if (_rules.HostCritical(device) is { } critical)
        {
            throw new PciPassthroughException(ErrorIds.HostCritical, FailureKind.InvalidOperation, $"Refusing to reset {device.PciAddress} ({device.DeviceName}): {char.ToLowerInvariant(critical.Detail[0])}{critical.Detail[1..].TrimEnd('.')} ({critical.Name}).", critical.Remedy, device.PciAddress);
        }

        if (!_root.Exists($"{PciDeviceReader.DevicesPath}/{device.PciAddress}/reset") || (!device.CanReset && methods is not { Count: > 0 }))
        {
            throw new PciPassthroughException(ErrorIds.ResetNotSupported, FailureKind.InvalidOperation, $"{device.PciAddress} ({device.DeviceName}) offers no reset: the kernel found no FLR, PM, bus or device-specific method{(device.ResetMethods.Length == 0 && _root.Exists($"{PciDeviceReader.DevicesPath}/{device.PciAddress}/reset_method") ? ", or its methods were disabled (Set-PciResetMethod -Default re-enables them)" : "")}.", "Such a device cannot be reset between guests; prefer a card with FLR.", device.PciAddress);
        }

        var unknown = methods?.Where(m => !KnownMethods.Contains(m)).ToList() ?? [];
        if (unknown.Count > 0)
        {
            throw new PciPassthroughException(ErrorIds.ResetMethodUnsupported, FailureKind.InvalidArgument, $"'{string.Join(" ", unknown)}' is no reset method the kernel knows ({string.Join(", ", KnownMethods)}).", $"Choose among the device's methods: {string.Join(" ", device.ResetMethods)}.", device.PciAddress);
        }

        var effective = EffectiveMethods(device, methods);
        if (effective.Length > 0 && effective.All(m => m is "bus" or "cxl_bus"))
        {
            var others = BusPeers(device).Where(p => p.Driver is not null && p.Driver != "vfio-pci").ToList();
            if (others.Count > 0)
            {
                throw new PciPassthroughException(ErrorIds.BusResetAffectsOthers, FailureKind.InvalidOperation, $"Refusing to reset {device.PciAddress}: only a secondary bus reset is left, and it would also reset {string.Join(", ", others.Select(o => $"{o.PciAddress} ({o.Driver})"))} on the same bus.", "Move those functions to vfio-pci (or off their drivers) first, or pass them together to one guest.", device.PciAddress);
            }
        }
    }

    /// <summary>
    /// An NVIDIA (10de) SR-IOV VF without a /sys/class/mdev_bus entry: what OpenNebula's probe reports as
    /// MDEV_MODE nvidia, the vGPU VFs of the driver's vendor mode (Ampere and later).
    /// </summary>
    public bool IsVendorModeVgpuVf(PciDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return device.VendorId == "10de" && device.SriovRole == SriovRole.VF && !_root.Exists("/sys/class/mdev_bus/" + device.PciAddress);
    }

    /// <summary>Resets the device (after <see cref="Check"/>); with methods, reset_method is restricted for the call and restored.</summary>
    public ResetResult Reset(PciDevice device, IReadOnlyList<string>? methods)
    {
        Check(device, methods);
        var dir = $"{PciDeviceReader.DevicesPath}/{device.PciAddress}";
        var effective = EffectiveMethods(device, methods);
        string? saved = null;
        var clock = Stopwatch.StartNew();
        if (methods is { Count: > 0 })
        {
            saved = _root.TryReadText(dir + "/reset_method")?.Trim();
            if (saved is null)
            {
                throw new PciPassthroughException(ErrorIds.ResetMethodUnsupported, FailureKind.InvalidOperation, $"{device.PciAddress} has no reset_method file (kernel before 5.15), so the methods cannot be chosen.", "Omit -Method: the kernel tries its own order.", device.PciAddress);
            }

            WriteMethods(device, string.Join(' ', methods) + "\n");
        }

        try
        {
            Write(device, dir + "/reset", "1", e => new PciPassthroughException(ErrorIds.ResetFailed, FailureKind.WriteError, $"The kernel could not reset {device.PciAddress} with {string.Join(" ", effective)}: {e.Message}", "Check dmesg; a device that fails its reset may need a host reboot before it works again.", device.PciAddress, e));
        }
        finally
        {
            if (saved is not null)
            {
                WriteMethods(device, (saved.Length == 0 ? "" : saved) + "\n");
            }
        }

        return new ResetResult
        {
            PciAddress = device.PciAddress,
            MethodsTried = effective,
            Succeeded = true,
            Duration = clock.Elapsed,
            Message = $"Reset {device.PciAddress} ({string.Join(" ", effective)}){(device.Driver is null ? "" : $"; {device.Driver} was notified")}.",
            Root = _root.Path,
        };
    }

    /// <summary>Writes reset_method: "flr pm\n", "default\n", or "\n" (disable: a zero-length write changes nothing).</summary>
    public void WriteMethods(PciDevice device, string text)
    {
        var path = $"{PciDeviceReader.DevicesPath}/{device.PciAddress}/reset_method";
        if (!_root.Exists(path))
        {
            throw new PciPassthroughException(ErrorIds.ResetMethodUnsupported, FailureKind.InvalidOperation, $"{device.PciAddress} has no reset_method file: the kernel is older than 5.15 or offers no reset.", "Upgrade the kernel to choose reset methods.", device.PciAddress);
        }

        Write(device, path, text, e => e.HResult == 22 // EINVAL
            ? new PciPassthroughException(ErrorIds.ResetMethodUnsupported, FailureKind.InvalidArgument, $"The kernel refused reset_method '{text.Trim()}' for {device.PciAddress}: the device does not support it (EINVAL).", $"Choose among the methods the device supports (Get-PciDevice -Address {device.PciAddress} shows them; Set-PciResetMethod -Default restores them all).", device.PciAddress, e)
            : new PciPassthroughException(ErrorIds.ResetFailed, FailureKind.WriteError, $"Cannot write reset_method of {device.PciAddress}: {e.Message}", "Run as root.", device.PciAddress, e));
    }

    private IEnumerable<PciDevice> BusPeers(PciDevice device)
    {
        foreach (var address in _devices.ListAddresses())
        {
            var text = address.ToString();
            if (text != device.PciAddress && text[..^5] == device.PciAddress[..^5] && _devices.Read(address) is { } peer)
            {
                yield return peer;
            }
        }
    }

    private void Write(PciDevice device, string hostPath, string value, Func<Exception, PciPassthroughException> failure)
    {
        if (!_root.IsLiveHost)
        {
            _root.EnsureWithin(_root.Resolve(hostPath));
        }

        var write = Task.Factory.StartNew(() => _kernel.Write(hostPath, value), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            if (!write.Wait(WriteTimeout))
            {
                throw new PciPassthroughException(ErrorIds.ResetTimedOut, FailureKind.WriteError, $"Writing '{value.Trim()}' to {hostPath} did not return within {WriteTimeout.TotalSeconds:0} s: the device may hang in its reset.", "Check dmesg; the write is still pending in the kernel, and the device may need a host reboot.", device.PciAddress);
            }
        }
        catch (AggregateException e) when (e.InnerException is IOException or UnauthorizedAccessException)
        {
            throw failure(e.InnerException);
        }
    }
}
