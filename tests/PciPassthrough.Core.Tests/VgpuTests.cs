using PciPassthrough.Binding;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Sysfs;
using PciPassthrough.Vgpu;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// NVIDIA's driver on a synthetic tree: a type is accepted only when the VF lists it; once a VF runs a type,
/// the GPU runs only that type and at most <see cref="Capacity"/> of them, so the siblings' creatable lists
/// shrink (the dynamic lists NVML documents). Clears can be made to fail a number of times.
/// </summary>
internal sealed class NvidiaKernel(FakeHost host, string[] vfs) : IKernel
{
    public const string AllTypes = "ID    : vGPU Name\n588   : NVIDIA A10-1B\n590   : NVIDIA A10-1Q\n";

    public List<(string Path, string Value)> Writes { get; } = [];

    public int Capacity { get; set; } = 2;

    public int FailClears { get; set; }

    public void Write(string hostPath, string value)
    {
        Writes.Add((hostPath, value));
        var vf = hostPath.Split('/')[^3];
        var id = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        if (id == 0 && FailClears-- > 0)
        {
            throw new IOException("Device or resource busy", 16);
        }

        if (id != 0 && !CreatableVgpuTypes.Parse(File.ReadAllText(Path.Combine(host.DeviceDir(vf), "nvidia/creatable_vgpu_types"))).Any(t => t.Id == id))
        {
            throw new IOException("Invalid argument", 22);
        }

        File.WriteAllText(Path.Combine(host.DeviceDir(vf), "nvidia/current_vgpu_type"), value + "\n");
        var running = vfs.Select(v => File.ReadAllText(Path.Combine(host.DeviceDir(v), "nvidia/current_vgpu_type")).Trim()).Where(t => t != "0").ToList();
        foreach (var v in vfs)
        {
            var list = running.Count == 0 ? AllTypes
                : running.Count >= Capacity ? "ID    : vGPU Name\n"
                : "ID    : vGPU Name\n" + string.Concat(AllTypes.Split('\n').Where(l => l.StartsWith(running[0] + " ", StringComparison.Ordinal)).Select(l => l + "\n"));
            File.WriteAllText(Path.Combine(host.DeviceDir(v), "nvidia/creatable_vgpu_types"), list);
        }
    }

    public bool LoadModule(string name) => false;
}

public class VgpuTests
{
    private const string Pf = "0000:41:00.0";
    private static readonly string[] Vfs = ["0000:41:00.4", "0000:41:00.5", "0000:41:00.6"];

    private static FakeHost A10()
    {
        var host = new FakeHost();
        host.Add(new FakeDevice(Pf) { Vendor = 0x10de, Device = 0x2236, ClassCode = 0x030200, Driver = "nvidia", IommuGroup = 20, TotalVfs = 32, NumVfs = 3 });
        for (var i = 0; i < Vfs.Length; i++)
        {
            host.Add(new FakeDevice(Vfs[i]) { Vendor = 0x10de, Device = 0x2236, ClassCode = 0x030200, Driver = "nvidia", IommuGroup = 21 + i, PhysicalFunction = Pf, VfIndex = i });
            host.WriteFile($"sys/bus/pci/devices/{Vfs[i]}/nvidia/creatable_vgpu_types", NvidiaKernel.AllTypes);
            host.WriteFile($"sys/bus/pci/devices/{Vfs[i]}/nvidia/current_vgpu_type", "0\n");
        }

        return host;
    }

    private static (VgpuManager Manager, NvidiaKernel Kernel, PciDeviceReader Reader) Make(FakeHost host)
    {
        var root = new HostRoot(host.Root);
        var reader = new PciDeviceReader(root, PciIdDatabase.Empty);
        var kernel = new NvidiaKernel(host, Vfs);
        return (new VgpuManager(root, kernel, reader) { RetryInterval = TimeSpan.Zero }, kernel, reader);
    }

    [Fact]
    public void The_framework_follows_opennebulas_mdev_mode_rule()
    {
        using var host = VgpuHost.Create();
        var reader = new PciDeviceReader(new HostRoot(host.Root), PciIdDatabase.Empty);
        Assert.Equal(VgpuFramework.NvidiaVendor, reader.Require("0000:41:00.4").VgpuFramework);
        Assert.Equal(VgpuFramework.Mdev, reader.Require("0000:41:00.5").VgpuFramework);
        Assert.Equal(VgpuFramework.None, reader.Require("0000:42:00.0").VgpuFramework);
        Assert.Equal(VgpuFramework.None, reader.Require("0000:43:00.0").VgpuFramework);
    }

    [Theory]
    [InlineData("ID    : vGPU Name\n588   : NVIDIA A10-1B\n590   : NVIDIA A10-1Q\n")]
    [InlineData("ID : Name\n\n588 : NVIDIA A10-1B\r\n590 : NVIDIA A10-1Q")]
    [InlineData("588 NVIDIA A10-1B\n590 NVIDIA A10-1Q\n")]
    [InlineData("Creatable vGPU types:\n  588:NVIDIA A10-1B\n  590 :  NVIDIA A10-1Q  \nnot a line\n")]
    public void Creatable_types_are_parsed_leniently(string text)
    {
        var types = CreatableVgpuTypes.Parse(text);
        Assert.Equal([(588, "NVIDIA A10-1B"), (590, "NVIDIA A10-1Q")], types);
        Assert.Equal("A10-1Q", CreatableVgpuTypes.ShortName(types[1].Name));
    }

    [Fact]
    public void A_type_is_set_only_when_creatable_by_id_name_or_short_name_and_only_current_vgpu_type_is_written()
    {
        using var host = A10();
        var (manager, kernel, reader) = Make(host);
        var vf = reader.Require(Vfs[0]);
        Assert.Equal("VF 0000:41:00.4: current_vgpu_type 0 -> 590 (NVIDIA A10-1Q): write to /sys/bus/pci/devices/0000:41:00.4/nvidia/current_vgpu_type", manager.PlanSet(vf, "A10-1Q", force: false));
        var e = Assert.Throws<PciPassthroughException>(() => manager.Set(vf, "999", force: false));
        Assert.Equal(ErrorIds.VgpuTypeNotCreatable, e.ErrorId);
        Assert.Contains("588 (NVIDIA A10-1B), 590 (NVIDIA A10-1Q)", e.RecommendedAction, StringComparison.Ordinal);
        Assert.Equal(590, manager.Set(vf, "a10-1q", force: false));
        Assert.Equal(590, manager.Set(vf, "590", force: false)); // again: nothing to write
        Assert.Single(kernel.Writes);
        var current = manager.Types(reader.Fresh().Require(Vfs[0])).Single(t => t.Current);
        Assert.Equal((590, "A10-1Q", true), (current.TypeId, current.ShortName, current.Creatable));

        // The siblings now list only the running type (one type per GPU at a time).
        Assert.Equal([590], manager.Types(reader.Fresh().Require(Vfs[1])).Select(t => t.TypeId));
        Assert.Equal(ErrorIds.VgpuTypeNotCreatable, Assert.Throws<PciPassthroughException>(() => manager.Set(reader.Fresh().Require(Vfs[1]), "588", force: false)).ErrorId);
        Assert.All(kernel.Writes, w => Assert.EndsWith("/nvidia/current_vgpu_type", w.Path, StringComparison.Ordinal)); // never driver_override, unbind or reset
    }

    [Fact]
    public void A_different_type_on_a_busy_vf_is_refused_unless_forced_and_a_vf_in_use_is_refused()
    {
        using var host = A10();
        var (manager, kernel, reader) = Make(host);
        manager.Set(reader.Require(Vfs[0]), "588", force: false);
        kernel.Capacity = 1; // a VF alone on the GPU may switch types
        File.WriteAllText(Path.Combine(host.DeviceDir(Vfs[0]), "nvidia/creatable_vgpu_types"), NvidiaKernel.AllTypes);
        Assert.Equal(ErrorIds.VgpuTypeAlreadySet, Assert.Throws<PciPassthroughException>(() => manager.Set(reader.Fresh().Require(Vfs[0]), "590", force: false)).ErrorId);
        Assert.Equal(590, manager.Set(reader.Fresh().Require(Vfs[0]), "590", force: true));
        Assert.Equal(["588", "0", "590"], kernel.Writes.Select(w => w.Value));

        host.AddProcess(4242, "qemu-system-x86", ["qemu-system-x86_64"], "/dev/vfio/22");
        host.WriteFile("dev/vfio/22", "");
        Assert.Equal(ErrorIds.InUse, Assert.Throws<PciPassthroughException>(() => manager.Set(reader.Fresh().Require(Vfs[1]), "590", force: false)).ErrorId);
    }

    [Fact]
    public void Count_fills_free_vfs_in_order_re_reading_each_and_rolls_back_when_it_cannot_finish()
    {
        using var host = A10();
        var (manager, kernel, reader) = Make(host);
        Assert.Equal([Vfs[0], Vfs[1]], manager.Fill(Pf, "A10-1B", 2));

        using var second = A10();
        var (other, otherKernel, _) = Make(second);
        var e = Assert.Throws<PciPassthroughException>(() => other.Fill(Pf, "588", 3)); // the GPU holds 2
        Assert.Equal(ErrorIds.VgpuTypeNotCreatable, e.ErrorId);
        Assert.All(Vfs, v => Assert.Equal("0", File.ReadAllText(Path.Combine(second.DeviceDir(v), "nvidia/current_vgpu_type")).Trim()));
        Assert.Equal(["588", "588", "0", "0"], otherKernel.Writes.Select(w => w.Value));
    }

    [Fact]
    public void Clear_retries_until_the_driver_lets_go_or_the_time_is_up()
    {
        using var host = A10();
        var (manager, kernel, reader) = Make(host);
        manager.Set(reader.Require(Vfs[0]), "588", force: false);
        kernel.FailClears = 2;
        manager.Clear(reader.Fresh().Require(Vfs[0]), TimeSpan.FromMinutes(5));
        Assert.Equal(["588", "0", "0", "0"], kernel.Writes.Select(w => w.Value));

        manager.Set(reader.Fresh().Require(Vfs[0]), "588", force: false);
        kernel.FailClears = 5;
        var e = Assert.Throws<PciPassthroughException>(() => manager.Clear(reader.Fresh().Require(Vfs[0]), TimeSpan.Zero));
        Assert.Equal(ErrorIds.VgpuTypeChangeFailed, e.ErrorId);
        Assert.Contains("still 588 after 1 attempt(s)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Virtual_functions_are_enabled_only_through_sriov_manage_with_its_argv()
    {
        using var host = new FakeHost();
        var bin = Path.Combine(host.Root, "bin");
        Directory.CreateDirectory(bin);
        var log = Path.Combine(host.Root, "argv");
        var script = host.WriteFile("bin/sriov-manage", $"#!/bin/sh\nprintf '%s\\n' \"$@\" > '{log}'\necho 'Enabling VFs on 0000:41:00.0'\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
        Assert.Equal("Enabling VFs on 0000:41:00.0", VgpuManager.EnableVirtualFunctions(Pf, bin));
        Assert.Equal("-e\n0000:41:00.0\n", File.ReadAllText(log));
        VgpuManager.EnableVirtualFunctions("ALL", bin);
        Assert.Equal("-e\nALL\n", File.ReadAllText(log));

        File.Delete(log);
        Assert.Equal(ErrorIds.InvalidAddress, Assert.Throws<PciPassthroughException>(() => VgpuManager.EnableVirtualFunctions("0000:41:00.0 ; reboot", bin)).ErrorId);
        Assert.False(File.Exists(log)); // not run
        File.WriteAllText(script, "#!/bin/sh\necho 'no such device' >&2\nexit 3\n");
        var e = Assert.Throws<PciPassthroughException>(() => VgpuManager.EnableVirtualFunctions(Pf, bin));
        Assert.Equal(ErrorIds.SriovManageFailed, e.ErrorId);
        Assert.Contains("exited with 3: no such device", e.Message, StringComparison.Ordinal);
    }
}
