using PciPassthrough.HostFs;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Binding;

/// <summary>A step of the protocol failed; the message says which step and what the kernel answered.</summary>
internal sealed class BindingStepException(string address, string step, string message, Exception? inner = null)
    : Exception($"{address}: {step}: {message}", inner)
{
    public string Address { get; } = address;

    public string Step { get; } = step;

    /// <summary>What went wrong, without the address and step.</summary>
    public string Detail { get; } = message;
}

/// <summary>
/// The driver_override protocol of libvirt and driverctl (linux-vfio.md §2), one device at a time, with
/// every write read back: override, unbind, drivers_probe, then verify which driver really bound
/// (drivers_probe reports success when nothing bound).
/// </summary>
internal sealed class DriverSwitch
{
    private readonly HostRoot _root;
    private readonly IKernel _kernel;
    private readonly TimeSpan _settle;
    private readonly CancellationToken _cancel;

    public DriverSwitch(HostRoot root, IKernel kernel, TimeSpan settle, CancellationToken cancel)
    {
        _root = root;
        _kernel = kernel;
        _settle = settle;
        _cancel = cancel;
    }

    public string? CurrentDriver(string address) => LinkName($"{PciDeviceReader.DevicesPath}/{address}/driver");

    public string? CurrentOverride(string address)
    {
        var text = _root.TryReadText($"{PciDeviceReader.DevicesPath}/{address}/driver_override")?.Trim();
        return string.IsNullOrEmpty(text) || text == "(null)" ? null : text;
    }

    public bool DriverLoaded(string driver) => Directory.Exists(_root.Resolve($"/sys/bus/pci/drivers/{driver}"));

    /// <summary>
    /// Moves the device to <paramref name="driver"/> (null: to no driver), then leaves driver_override as
    /// <paramref name="finalOverride"/> (null: cleared). A no-op for each step already in place. When a
    /// step fails, driver_override is put back as it was (best effort): a stale override would send the
    /// device to the wrong driver at its next probe.
    /// </summary>
    public void MoveTo(string address, string? driver, string? finalOverride)
    {
        var before = CurrentOverride(address);
        try
        {
            Move(address, driver, finalOverride);
        }
        catch (BindingStepException)
        {
            RestoreOverride(address, before);
            throw;
        }
    }

    private void RestoreOverride(string address, string? value)
    {
        try
        {
            if (CurrentOverride(address) != value)
            {
                _kernel.Write($"{PciDeviceReader.DevicesPath}/{address}/driver_override", (value ?? "") + "\n");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The step's own failure is what the caller reports; this one only means the override stays.
        }
    }

    private void Move(string address, string? driver, string? finalOverride)
    {
        if (driver is not null)
        {
            SetOverride(address, driver);
        }

        var current = CurrentDriver(address);
        if (current is not null && current != driver)
        {
            Step(address, $"unbind from {current}", () => _kernel.Write($"/sys/bus/pci/drivers/{current}/unbind", address));
            Verify(address, $"unbind from {current}", () => CurrentDriver(address) is null, "the device is still bound");
        }

        if (driver is not null && CurrentDriver(address) != driver)
        {
            Step(address, "drivers_probe", () => _kernel.Write("/sys/bus/pci/drivers_probe", address));
            Verify(address, $"bind to {driver}", () => CurrentDriver(address) == driver, $"the device is on {CurrentDriver(address) ?? "no driver"}, not {driver}");
        }

        if (CurrentOverride(address) != finalOverride)
        {
            SetOverride(address, finalOverride);
        }
    }

    /// <summary>Clears driver_override, unbinds, and lets the kernel's normal matching pick the host driver.</summary>
    public void MoveToKernelChoice(string address)
    {
        SetOverride(address, null);
        var current = CurrentDriver(address);
        if (current is not null)
        {
            Step(address, $"unbind from {current}", () => _kernel.Write($"/sys/bus/pci/drivers/{current}/unbind", address));
            Verify(address, $"unbind from {current}", () => CurrentDriver(address) is null, "the device is still bound");
        }

        Step(address, "drivers_probe", () => _kernel.Write("/sys/bus/pci/drivers_probe", address));
        Verify(address, "bind to a host driver", () => CurrentDriver(address) is not null and not "vfio-pci", "no host driver bound the device");
    }

    private void SetOverride(string address, string? value)
    {
        var path = $"{PciDeviceReader.DevicesPath}/{address}/driver_override";
        Step(address, $"set driver_override to '{value ?? ""}'", () => _kernel.Write(path, (value ?? "") + "\n"));
        Verify(address, "read back driver_override", () => CurrentOverride(address) == value, $"driver_override reads '{CurrentOverride(address) ?? "(null)"}'");
    }

    private static void Step(string address, string step, Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BindingStepException(address, step, e.Message, e);
        }
    }

    // The kernel binds synchronously for most drivers; some probe asynchronously, so poll briefly.
    private void Verify(string address, string step, Func<bool> condition, string failure)
    {
        // A monotonic clock: a step of the wall clock must not cut the check short or stretch it.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            _cancel.ThrowIfCancellationRequested();
            if (waited.Elapsed >= _settle)
            {
                throw new BindingStepException(address, step, failure);
            }

            Thread.Sleep(20);
        }
    }

    private string? LinkName(string hostPath)
    {
        try
        {
            var target = new FileInfo(_root.ResolveContained(hostPath)).LinkTarget;
            return target is null ? null : Path.GetFileName(target.TrimEnd('/'));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
