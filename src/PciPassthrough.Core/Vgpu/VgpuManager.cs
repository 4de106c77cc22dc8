using System.Diagnostics;
using System.Text.RegularExpressions;
using PciPassthrough.Binding;
using PciPassthrough.HostFs;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Vgpu;

/// <summary>
/// NVIDIA's vendor-specific vGPU framework (kernel 6.8+, vGPU 17+): a vGPU is made by writing a numeric
/// type ID to a VF's <c>nvidia/current_vgpu_type</c>, and removed by writing 0. The VF is never rebound
/// or reset (Proxmox: "without resetting and changing to the vfio-pci driver"). Types are only set when
/// the VF lists them in <c>nvidia/creatable_vgpu_types</c> now, re-read for every VF because the list
/// changes as siblings get types (vgpu-device-manager's algorithm).
/// </summary>
public sealed partial class VgpuManager
{
    public const string CurrentFile = "nvidia/current_vgpu_type";
    public const string CreatableFile = "nvidia/creatable_vgpu_types";

    private readonly HostRoot _root;
    private readonly IKernel _kernel;
    private readonly PciDeviceReader _devices;

    public VgpuManager(HostRoot root, IKernel kernel, PciDeviceReader devices)
    {
        _root = root;
        _kernel = kernel;
        _devices = devices;
    }

    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Pause between Clear's attempts (Proxmox waits 1 s: the type is not always clearable right after QEMU exits).</summary>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(1);

    public CancellationToken Cancel { get; init; }

    /// <summary>The VFs of an address: a PF's VFs in index order that have the vendor files, or the VF itself.</summary>
    public IReadOnlyList<PciDevice> Functions(string address)
    {
        var device = _devices.Require(address);
        if (device.SriovRole == SriovRole.PF)
        {
            var vfs = device.VirtualFunctions.Select(_devices.Require).Where(v => v.VgpuFramework == VgpuFramework.NvidiaVendor).ToList();
            return vfs.Count > 0 ? vfs : throw ErrorCatalog.VgpuNotSupported(device.PciAddress, "has no virtual function with NVIDIA's nvidia/ vGPU files (no VFs enabled, or a legacy mdev GPU).");
        }

        return device.VgpuFramework == VgpuFramework.NvidiaVendor && _root.Exists(Path(device, CurrentFile))
            ? [device]
            : throw ErrorCatalog.VgpuNotSupported(device.PciAddress, $"has no {CurrentFile}: it is no VF of a GPU on NVIDIA's vendor-specific vGPU framework.");
    }

    /// <summary>The creatable and current types of a VF.</summary>
    public IReadOnlyList<VgpuType> Types(PciDevice vf)
    {
        var current = Current(vf);
        var creatable = CreatableVgpuTypes.Parse(_root.TryReadText(Path(vf, CreatableFile)));
        var types = creatable.Select(t => Make(vf, t.Id, t.Name, t.Id == current, true)).ToList();
        if (current != 0 && !creatable.Any(t => t.Id == current))
        {
            types.Insert(0, Make(vf, current, null, true, false));
        }

        return types;
    }

    /// <summary>The VF's current type ID (0: none).</summary>
    public int Current(PciDevice vf) =>
        int.TryParse(_root.TryReadText(Path(vf, CurrentFile))?.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;

    /// <summary>The type ID <paramref name="type"/> names on this VF (an ID, a full name or a short name), among its creatable types.</summary>
    public int Resolve(PciDevice vf, string type)
    {
        var creatable = Types(vf).Where(t => t.Creatable).ToList();
        var match = creatable.FirstOrDefault(t => t.TypeId.ToString(System.Globalization.CultureInfo.InvariantCulture) == type.Trim()
            || string.Equals(t.Name, type.Trim(), StringComparison.OrdinalIgnoreCase) || string.Equals(t.ShortName, type.Trim(), StringComparison.OrdinalIgnoreCase));
        return match?.TypeId ?? throw ErrorCatalog.VgpuTypeNotCreatable(vf.PciAddress, type, creatable.Select(t => $"{t.TypeId} ({t.Name})"));
    }

    /// <summary>Checks a change and describes it (-WhatIf); throws the refusal that applies.</summary>
    public string PlanSet(PciDevice vf, string type, bool force)
    {
        var current = Current(vf);
        if (vf.InUse.Length > 0)
        {
            throw ErrorCatalog.VgpuFunctionInUse(vf);
        }

        var id = Wanted(vf, type, current);
        if (current != 0 && current != id && !force)
        {
            throw ErrorCatalog.VgpuTypeAlreadySet(vf.PciAddress, current, id);
        }

        var name = Types(vf).FirstOrDefault(t => t.TypeId == id)?.Name;
        return current == id
            ? $"VF {vf.PciAddress}: current_vgpu_type is already {id}{(name is null ? "" : $" ({name})")}: nothing to write"
            : $"VF {vf.PciAddress}: current_vgpu_type {current} -> {(current != 0 ? "0 -> " : "")}{id}{(name is null ? "" : $" ({name})")}: write to {Path(vf, CurrentFile)}";
    }

    /// <summary>Sets one VF's type under the lock (checked again there) and returns the type ID it runs.</summary>
    public int Set(PciDevice vf, string type, bool force, Action<string>? log = null)
    {
        using var held = BindingLock.Acquire(_root, LockTimeout, Cancel, log);
        vf = _devices.Fresh().Require(vf.PciAddress);
        PlanSet(vf, type, force);
        return SetUnlocked(vf, type);
    }

    /// <summary>
    /// Gives <paramref name="count"/> free VFs of a PF the type, in VF order, re-reading each VF's creatable list;
    /// a failure part-way sets the VFs this call changed back to 0. Returns the VFs set.
    /// </summary>
    public IReadOnlyList<string> Fill(string physicalFunction, string type, int count, Action<string>? log = null)
    {
        using var held = BindingLock.Acquire(_root, LockTimeout, Cancel, log);
        var done = new List<PciDevice>();
        try
        {
            foreach (var vf in Functions(physicalFunction).Select(v => _devices.Fresh().Require(v.PciAddress)))
            {
                if (done.Count == count)
                {
                    break;
                }

                if (Current(vf) != 0 || vf.InUse.Length > 0)
                {
                    continue;
                }

                SetUnlocked(vf, type);
                done.Add(vf);
            }

            if (done.Count < count)
            {
                throw ErrorCatalog.VgpuTypeNotCreatable(physicalFunction, type, [$"only {done.Count} of the {count} VFs asked for could take it; those were cleared again"]);
            }
        }
        catch (PciPassthroughException)
        {
            foreach (var vf in done)
            {
                TryWrite(vf, "0");
            }

            throw;
        }

        return done.Select(v => v.PciAddress).ToList();
    }

    /// <summary>Writes 0 and re-reads, retrying until <paramref name="retryFor"/> has passed (Proxmox's cleanup loop).</summary>
    public void Clear(PciDevice vf, TimeSpan retryFor, Action<string>? log = null)
    {
        using var held = BindingLock.Acquire(_root, LockTimeout, Cancel, log);
        var clock = Stopwatch.StartNew();
        string? last = null;
        for (var attempt = 1; ; attempt++)
        {
            last = TryWrite(vf, "0");
            if (last is null && Current(vf) == 0)
            {
                return;
            }

            if (clock.Elapsed >= retryFor)
            {
                throw ErrorCatalog.VgpuTypeChangeFailed(vf.PciAddress, $"current_vgpu_type is still {Current(vf)} after {attempt} attempt(s) in {retryFor.TotalSeconds:0} s{(last is null ? "" : ": " + last)}.");
            }

            log?.Invoke($"{vf.PciAddress}: current_vgpu_type not cleared yet (attempt {attempt}); retrying.");
            Cancel.WaitHandle.WaitOne(RetryInterval);
            Cancel.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// Enables a PF's VFs (or every GPU's, with ALL) the only way NVIDIA supports: its sriov-manage script,
    /// found on <paramref name="searchPath"/> (default PATH) or at /usr/lib/nvidia/sriov-manage, run with an
    /// argument vector (no shell).
    /// </summary>
    public static string EnableVirtualFunctions(string target, string? searchPath = null)
    {
        if (!string.Equals(target, "ALL", StringComparison.Ordinal) && !SriovManageAddress().IsMatch(target))
        {
            throw ErrorCatalog.SriovManageInvalidTarget(target);
        }

        var tool = (searchPath ?? Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => System.IO.Path.Combine(d, "sriov-manage")).Append("/usr/lib/nvidia/sriov-manage").FirstOrDefault(File.Exists)
            ?? throw ErrorCatalog.SriovManageFailed(target, "sriov-manage is neither on PATH nor at /usr/lib/nvidia/sriov-manage.");
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, ArgumentList = { "-e", target } };
        using var p = Process.Start(psi) ?? throw ErrorCatalog.SriovManageFailed(target, $"{tool} could not be started.");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0 ? stdout.Result.Trim() : throw ErrorCatalog.SriovManageFailed(target, $"{tool} -e {target} exited with {p.ExitCode}: {stderr.Trim()}");
    }

    private int SetUnlocked(PciDevice vf, string type)
    {
        var current = Current(vf);
        var id = Wanted(vf, type, current);
        if (current == id)
        {
            return id;
        }

        if (current != 0 && TryWrite(vf, "0") is { } clearError)
        {
            throw ErrorCatalog.VgpuTypeChangeFailed(vf.PciAddress, $"clearing type {current} failed: {clearError}");
        }

        if (TryWrite(vf, id.ToString(System.Globalization.CultureInfo.InvariantCulture)) is { } error)
        {
            throw ErrorCatalog.VgpuTypeChangeFailed(vf.PciAddress, $"the driver refused type {id}: {error}");
        }

        return Current(vf) == id ? id : throw ErrorCatalog.VgpuTypeChangeFailed(vf.PciAddress, $"current_vgpu_type reads {Current(vf)} after writing {id}.");
    }

    // The type the VF runs counts as wanted even when no longer listed as creatable (a VF at capacity lists nothing).
    private int Wanted(PciDevice vf, string type, int current) =>
        current != 0 && type.Trim() == current.ToString(System.Globalization.CultureInfo.InvariantCulture) ? current : Resolve(vf, type);

    private string? TryWrite(PciDevice vf, string value)
    {
        try
        {
            _kernel.Write(Path(vf, CurrentFile), value);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }
    }

    private VgpuType Make(PciDevice vf, int id, string? name, bool current, bool creatable) => new()
    {
        PciAddress = vf.PciAddress,
        PhysicalFunction = vf.PhysicalFunction,
        TypeId = id,
        Name = name,
        ShortName = CreatableVgpuTypes.ShortName(name),
        Current = current,
        Creatable = creatable,
        Root = _root.Path,
    };

    private static string Path(PciDevice vf, string file) => $"{PciDeviceReader.DevicesPath}/{vf.PciAddress}/{file}";

    // vgpu-device-manager's pattern for sriov-manage's argument.
    [GeneratedRegex(@"^[0-9a-fA-F]{4,8}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$")]
    private static partial Regex SriovManageAddress();
}
