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

    /// <summary>With -Subordinate: every device below the bridge that the secondary bus reset also reset.</summary>
    public string[] DevicesBelow { get; init; } = [];

    public string Root { get; init; } = "/";

    public override string ToString() => PciAddress;
}

/// <summary>
/// Function resets through the kernel's <c>reset</c> file (<c>pci_reset_function</c>: config space saved and
/// restored, the bound driver notified), optionally restricted for the call through <c>reset_method</c> and
/// restored afterwards. Refuses devices a reset would hurt; every write has a timeout.
/// </summary>
public sealed partial class PciResetter
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
            throw ErrorCatalog.ResetOfBridge(device);
        }

        // Never, whatever else holds: the nvidia driver owns a vendor-mode vGPU VF (the probe's MDEV_MODE nvidia).
        if (IsVendorModeVgpuVf(device))
        {
            throw ErrorCatalog.VgpuVirtualFunction(device);
        }

        if (device.InUse.Length > 0)
        {
            throw ErrorCatalog.ResetInUse(device);
        }

        if (_rules.HostCritical(device) is { } critical)
        {
            throw ErrorCatalog.ResetOfHostCritical(device, critical.Name, critical.Detail, critical.Remedy);
        }

        if (!_root.Exists($"{PciDeviceReader.DevicesPath}/{device.PciAddress}/reset") || (!device.CanReset && methods is not { Count: > 0 }))
        {
            throw ErrorCatalog.ResetNotSupported(device, device.ResetMethods.Length == 0 && _root.Exists($"{PciDeviceReader.DevicesPath}/{device.PciAddress}/reset_method"));
        }

        var unknown = methods?.Where(m => !KnownMethods.Contains(m)).ToList() ?? [];
        if (unknown.Count > 0)
        {
            throw ErrorCatalog.UnknownResetMethod(device, unknown, KnownMethods);
        }

        var effective = EffectiveMethods(device, methods);
        if (effective.Length > 0 && effective.All(m => m is "bus" or "cxl_bus"))
        {
            var others = BusPeers(device).Where(p => p.Driver is not null && p.Driver != "vfio-pci").ToList();
            if (others.Count > 0)
            {
                throw ErrorCatalog.BusResetAffectsOthers(device, others);
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
        return device.VendorId == "10de" && device.SriovRole == SriovRole.VF && !_root.Exists($"{Mdev.MediatedDeviceReader.ParentsPath}/{device.PciAddress}");
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
                throw ErrorCatalog.ResetMethodsNotChoosable(device);
            }

            WriteMethods(device, string.Join(' ', methods) + "\n");
        }

        try
        {
            Write(device, dir + "/reset", "1", e => ErrorCatalog.ResetFailed(device, effective, e));
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
            throw ErrorCatalog.NoResetMethodFile(device);
        }

        Write(device, path, text, e => e.HResult == 22 // EINVAL
            ? ErrorCatalog.ResetMethodRefused(device, text, e)
            : ErrorCatalog.ResetMethodWriteFailed(device, e));
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

        try
        {
            if (!TimedWrite.TryWrite(_kernel, hostPath, value, WriteTimeout))
            {
                throw ErrorCatalog.ResetTimedOut(device, value, hostPath, WriteTimeout);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw failure(e);
        }
    }
}
