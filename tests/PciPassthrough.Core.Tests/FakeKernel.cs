using PciPassthrough.Binding;

namespace PciPassthrough.Core.Tests;

/// <summary>The process died mid-protocol: no rollback runs (unlike an IOException from the kernel).</summary>
internal sealed class SimulatedCrashException : Exception
{
    public SimulatedCrashException()
        : base("simulated crash")
    {
    }
}

/// <summary>
/// Plays the kernel's part on a fixture tree: driver_override stores the value, unbind removes the
/// driver link, drivers_probe binds the override's driver or else the device's native driver (when that
/// driver is loaded). Records every write; any write can be made to fail or to "crash".
/// </summary>
internal sealed class FakeKernel : IKernel
{
    private readonly FakeHost _host;
    private readonly Dictionary<string, string> _native;
    private readonly object _gate = new();

    public FakeKernel(FakeHost host, params (string Address, string Driver)[] natives)
    {
        _host = host;
        _native = natives.ToDictionary(n => n.Address, n => n.Driver);
    }

    public List<(string Path, string Value)> Writes { get; } = [];

    /// <summary>Return true to make that write fail with an IOException, as the kernel's EBUSY would.</summary>
    public Func<int, string, string, bool>? FailWhen { get; set; }

    /// <summary>Return true to make that write "kill the process" (no catch block runs).</summary>
    public Func<int, string, string, bool>? CrashWhen { get; set; }

    public bool VfioLoadable { get; set; } = true;

    public List<string> LoadedModules { get; } = [];

    public void Write(string hostPath, string value)
    {
        lock (_gate)
        {
            var index = Writes.Count;
            Writes.Add((hostPath, value));
            if (CrashWhen?.Invoke(index, hostPath, value) == true)
            {
                throw new SimulatedCrashException();
            }

            if (FailWhen?.Invoke(index, hostPath, value) == true)
            {
                throw new IOException($"injected failure writing '{value.Trim()}' to {hostPath}");
            }

            var address = value.Trim();
            var parts = hostPath.Split('/');
            if (hostPath.EndsWith("/driver_override", StringComparison.Ordinal))
            {
                File.WriteAllText(_host.Root + hostPath, address.Length == 0 ? "(null)\n" : address + "\n");
            }
            else if (hostPath.EndsWith("/unbind", StringComparison.Ordinal))
            {
                var driver = parts[^2];
                if (CurrentDriver(address) != driver)
                {
                    throw new IOException("No such device");
                }

                File.Delete(Path.Combine(_host.DeviceDir(address), "driver"));
                File.Delete(Path.Combine(_host.Root, "sys/bus/pci/drivers", driver, address));
            }
            else if (hostPath == "/sys/bus/pci/drivers_probe")
            {
                if (CurrentDriver(address) is not null)
                {
                    return;
                }

                var over = File.ReadAllText(Path.Combine(_host.DeviceDir(address), "driver_override")).Trim();
                var target = over == "(null)" ? _native.GetValueOrDefault(address) : over;
                if (target is not null && Directory.Exists(Path.Combine(_host.Root, "sys/bus/pci/drivers", target)))
                {
                    Bind(address, target);
                }
            }
            else
            {
                throw new IOException($"FakeKernel does not know {hostPath}");
            }
        }
    }

    public bool LoadModule(string name)
    {
        LoadedModules.Add(name);
        if (name == "vfio-pci" && VfioLoadable)
        {
            Directory.CreateDirectory(Path.Combine(_host.Root, "sys/bus/pci/drivers/vfio-pci"));
            return true;
        }

        return Directory.Exists(Path.Combine(_host.Root, "sys/bus/pci/drivers", name));
    }

    public string? CurrentDriver(string address)
    {
        var target = new FileInfo(Path.Combine(_host.DeviceDir(address), "driver")).LinkTarget;
        return target is null ? null : Path.GetFileName(target);
    }

    public string? CurrentOverride(string address)
    {
        var text = File.ReadAllText(Path.Combine(_host.DeviceDir(address), "driver_override")).Trim();
        return text == "(null)" ? null : text;
    }

    private void Bind(string address, string driver)
    {
        var real = new DirectoryInfo(_host.DeviceDir(address)).LinkTarget!;
        File.CreateSymbolicLink(Path.Combine(_host.DeviceDir(address), "driver"), $"../../../bus/pci/drivers/{driver}");
        File.CreateSymbolicLink(Path.Combine(_host.Root, "sys/bus/pci/drivers", driver, address), "../../../../" + real.Replace("../../../", "", StringComparison.Ordinal));
    }
}
