using System.Diagnostics;
using PciPassthrough.Binding;
using PciPassthrough.HostConfig;
using PciPassthrough.HostFs;
using PciPassthrough.Mdev;
using PciPassthrough.OpenNebula.Probe;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// Plays the kernel's mdev part on an <see cref="MdevHost"/> tree (LAB L19): a create makes the
/// instance (EEXIST for a taken UUID, ENOSPC without instances), remove deletes it, attribute writes
/// land in files unless told to fail. Records every write.
/// </summary>
internal sealed class MdevKernel(FakeHost host) : IKernel
{
    public List<(string Path, string Value)> Writes { get; } = [];

    public string? FailAttribute { get; set; }

    public int NextGroup { get; set; } = 16;

    public void Write(string hostPath, string value)
    {
        Writes.Add((hostPath, value));
        var full = Path.Combine(host.Root, hostPath.TrimStart('/'));
        if (hostPath.EndsWith("/create", StringComparison.Ordinal))
        {
            var typeDir = Path.GetDirectoryName(full)!;
            var parentReal = Path.GetRelativePath(host.Root, Path.GetFullPath(Path.Combine(new DirectoryInfo(Path.GetDirectoryName(Path.GetDirectoryName(typeDir)!)!).ResolveLinkTarget(true)?.FullName ?? Path.GetDirectoryName(Path.GetDirectoryName(typeDir)!)!)));
            if (Directory.Exists(Path.Combine(host.Root, parentReal, value)))
            {
                throw new IOException("File exists", 17);
            }

            if (File.ReadAllText(Path.Combine(typeDir, "available_instances")).Trim() == "0")
            {
                throw new IOException("No space left on device", 28);
            }

            MdevHost.AddInstance(host, parentReal, Path.GetFileName(typeDir), value, NextGroup++);
            return;
        }

        if (hostPath.EndsWith("/remove", StringComparison.Ordinal))
        {
            var uuid = hostPath.Split('/')[^2];
            var real = new FileInfo(Path.Combine(host.Root, "sys/bus/mdev/devices", uuid)).ResolveLinkTarget(true)!.FullName;
            MdevHost.RemoveInstance(host, Path.GetRelativePath(host.Root, Path.GetDirectoryName(real)!), uuid);
            return;
        }

        if (FailAttribute is not null && hostPath.EndsWith("/" + FailAttribute, StringComparison.Ordinal))
        {
            throw new IOException("Invalid argument", 22);
        }

        File.WriteAllText(full, value);
    }

    public bool LoadModule(string name) => false;
}

public class MdevTests
{
    private const string U1 = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";
    private const string U2 = "11111111-2222-3333-4444-555555555555";

    // Written by Debian 12's mdevctl 1.2.0 (mdevctl define -u U1 -p mtty -t mtty-1 --auto, then two
    // mdevctl modify --addattr), captured byte for byte: serde_json's pretty form without a final newline.
    private const string MdevctlWritten = "{\n  \"mdev_type\": \"mtty-1\",\n  \"start\": \"auto\",\n  \"attrs\": [\n    {\n      \"foo\": \"bar\"\n    },\n    {\n      \"baz\": \"2\"\n    }\n  ]\n}";
    private const string MdevctlWrittenNoAttrs = "{\n  \"mdev_type\": \"nvidia-588\",\n  \"start\": \"manual\",\n  \"attrs\": []\n}";

    private static (MediatedDeviceManager Manager, MdevKernel Kernel) Make(FakeHost host)
    {
        var kernel = new MdevKernel(host);
        return (new MediatedDeviceManager(new HostRoot(host.Root), kernel), kernel);
    }

    private static MediatedDeviceReader Reader(FakeHost host) => new(new HostRoot(host.Root));

    private static string Available(FakeHost host, string type) => File.ReadAllText(Path.Combine(host.Root, MdevHost.Mtty, "mdev_supported_types", type, "available_instances")).Trim();

    [Fact]
    public void Types_of_a_parent_that_is_no_pci_device_are_listed_with_their_files()
    {
        using var host = MdevHost.Create();
        var reader = Reader(host);
        Assert.Equal([MdevHost.Gpu, "mtty"], reader.Parents());
        var types = reader.Types("mtty");
        Assert.Equal(["mtty-1", "mtty-2"], types.Select(t => t.Type));
        var one = types[0];
        Assert.False(one.ParentIsPci);
        Assert.Equal("Single port serial", one.Name);
        Assert.Null(one.Description); // mtty has no description file (LAB L18)
        Assert.Equal("vfio-pci", one.DeviceApi);
        Assert.Equal(24, one.AvailableInstances);
        Assert.Empty(one.Instances);
        var gpu = Assert.Single(reader.Types(MdevHost.Gpu));
        Assert.True(gpu.ParentIsPci);
        Assert.Equal("num_heads=4, frl_config=60, framebuffer=2048M", gpu.Description);
        Assert.Empty(reader.Types("../../.."));
        Assert.Null(reader.Type("mtty", "../mtty-1"));
    }

    [Fact]
    public void The_definition_mdevctl_writes_is_read_and_written_back_byte_for_byte()
    {
        var config = MdevctlConfig.Parse(MdevctlWritten, "x");
        Assert.Equal("mtty-1", config.Type);
        Assert.Equal(MediatedDeviceStartMode.Auto, config.StartMode);
        Assert.Equal(["foo=bar", "baz=2"], config.Attributes.Select(a => a.ToString()));
        Assert.Equal(MdevctlWritten, config.Format());
        Assert.Equal(MdevctlWrittenNoAttrs, MdevctlConfig.Parse(MdevctlWrittenNoAttrs, "x").Format());

        // The compact form (older mdevctl, hand-written files) and escapes read the same way.
        var compact = MdevctlConfig.Parse("{\"mdev_type\":\"mtty-1\",\"start\":\"auto\",\"attrs\":[{\"a\":\"q\\\"\\\\\\n\\u0001é\"}]}", "x");
        Assert.Equal("q\"\\\n\u0001é", compact.Attributes[0].Value);
        Assert.Contains("\"a\": \"q\\\"\\\\\\n\\u0001é\"", compact.Format(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("{\"start\":\"auto\",\"attrs\":[]}")]
    [InlineData("{\"mdev_type\":\"mtty-1\",\"start\":\"sometimes\",\"attrs\":[]}")]
    [InlineData("{\"mdev_type\":\"mtty-1\",\"start\":\"auto\",\"attrs\":{}}")]
    [InlineData("{\"mdev_type\":\"mtty-1\",\"start\":\"auto\",\"attrs\":[{\"a\":\"1\",\"b\":\"2\"}]}")]
    [InlineData("{\"mdev_type\":\"mtty-1\",\"start\":\"auto\",\"attrs\":[{\"a\":1}]}")]
    [InlineData("{not json")]
    public void A_definition_mdevctl_would_reject_is_MediatedDeviceConfigInvalid(string text)
    {
        var e = Assert.Throws<PciPassthroughException>(() => MdevctlConfig.Parse(text, "/etc/mdevctl.d/mtty/" + U1));
        Assert.Equal(ErrorIds.MediatedDeviceConfigInvalid, e.ErrorId);
    }

    [Fact]
    public void Devices_are_active_defined_or_both_and_bad_definitions_are_errors()
    {
        using var host = MdevHost.Create();
        MdevHost.AddInstance(host, MdevHost.Mtty, "mtty-1", U1, 16);
        MdevHost.AddInstance(host, $"sys/devices/pci0000:41/{MdevHost.Gpu}", "nvidia-558", "22222222-2222-3333-4444-555555555555", 17);
        host.WriteFile($"etc/mdevctl.d/mtty/{U1}", MdevctlWritten);
        host.WriteFile($"etc/mdevctl.d/0000:41:00.4/{U2.ToUpperInvariant()}", MdevctlWrittenNoAttrs);
        host.WriteFile($"etc/mdevctl.d/mtty/{U1}.20261129.pcipt.bak", "ignored: not named by a UUID");
        host.WriteFile("etc/mdevctl.d/mtty/33333333-2222-3333-4444-555555555555", "{broken");
        host.WriteFile("etc/mdevctl.d/scripts.d/callouts/x", "#!/bin/sh");
        host.AddProcess(4242, "qemu-system-x86", ["qemu-system-x86_64", "-name", "guest=one-7"], "/dev/vfio/16");

        var (devices, errors) = Reader(host).Devices();
        Assert.Equal(ErrorIds.MediatedDeviceConfigInvalid, Assert.Single(errors).ErrorId);
        Assert.Equal(3, devices.Count);
        var both = devices.Single(d => d.Uuid == U1);
        Assert.Equal(MediatedDeviceState.ActiveAndDefined, both.State);
        Assert.Equal(("mtty", "mtty-1", MediatedDeviceStartMode.Auto), (both.Parent, both.Type, both.StartMode));
        Assert.Equal(["foo=bar", "baz=2"], both.Attributes.Select(a => a.ToString()));
        Assert.Equal((16, "/dev/vfio/16", "vfio_mdev"), (both.IommuGroup, both.DevicePath, both.Driver));
        Assert.Equal(7, Assert.Single(both.InUse).VmId);
        Assert.Equal($"/etc/mdevctl.d/mtty/{U1}", both.ConfigPath);
        var active = devices.Single(d => d.Uuid.StartsWith("2222", StringComparison.Ordinal));
        Assert.Equal((MediatedDeviceState.Active, MdevHost.Gpu, (MediatedDeviceStartMode?)null, (string?)null), (active.State, active.Parent, active.StartMode, active.ConfigPath));
        Assert.Empty(active.InUse);
        var defined = devices.Single(d => d.Uuid == U2); // the upper-case file name reads as the lowercase UUID, as mdevctl does
        Assert.Equal((MediatedDeviceState.Defined, "0000:41:00.4", "nvidia-588", (int?)null), (defined.State, defined.Parent, defined.Type, defined.IommuGroup));
    }

    [Fact]
    public void A_device_is_created_by_uuid_and_persisted_in_mdevctls_format()
    {
        using var host = MdevHost.Create();
        var (manager, kernel) = Make(host);
        var request = new MediatedDeviceRequest("mtty", "mtty-1", U1.ToUpperInvariant())
        {
            Attributes = [new("foo", "bar"), new("baz", "2")],
            Persist = true,
            StartMode = MediatedDeviceStartMode.Auto,
        };
        var plan = manager.PlanCreate(request);
        Assert.Equal(
            $"create mdev {U1} on mtty type mtty-1 (24 available): write '{U1}' to /sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1/create; write 'bar' to /sys/bus/mdev/devices/{U1}/foo; write '2' to /sys/bus/mdev/devices/{U1}/baz; write /etc/mdevctl.d/mtty/{U1} (start=auto, 2 attribute(s))",
            plan.Describe());
        Assert.Empty(kernel.Writes); // planning writes nothing

        var device = manager.Create(request);
        Assert.Equal([("/sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1/create", U1), ($"/sys/bus/mdev/devices/{U1}/foo", "bar"), ($"/sys/bus/mdev/devices/{U1}/baz", "2")], kernel.Writes);
        Assert.Equal((MediatedDeviceState.ActiveAndDefined, 16, "23"), (device.State, device.IommuGroup, Available(host, "mtty-1")));
        var file = Path.Combine(host.Root, $"etc/mdevctl.d/mtty/{U1}");
        Assert.Equal(MdevctlWritten, File.ReadAllText(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(file));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(file)!, ".*")); // no temporary file left
        Assert.True(File.Exists(Path.Combine(host.Root, "run/lock/pcipassthrough.lock"))); // the module's lock was taken
    }

    [Fact]
    public void Define_only_writes_no_sysfs_file_and_the_same_definition_again_is_no_change()
    {
        using var host = MdevHost.Create();
        var (manager, kernel) = Make(host);
        var request = new MediatedDeviceRequest("mtty", "mtty-2", U1) { Persist = true, NoStart = true };
        Assert.Equal($"define mdev {U1} on mtty type mtty-2: write /etc/mdevctl.d/mtty/{U1} (start=manual, 0 attribute(s))", manager.PlanCreate(request).Describe());
        var device = manager.Create(request);
        Assert.Empty(kernel.Writes);
        Assert.Equal((MediatedDeviceState.Defined, MediatedDeviceStartMode.Manual), (device.State, device.StartMode));
        Assert.Equal(FileAction.Unchanged, manager.PlanCreate(request).Definition!.Action);
        var other = Assert.Throws<PciPassthroughException>(() => manager.PlanCreate(request with { Type = "mtty-1" }));
        Assert.Equal(ErrorIds.MediatedDeviceExists, other.ErrorId); // mdevctl: "Cowardly refusing to overwrite existing config"
        Assert.Equal(ErrorIds.InvalidMediatedDeviceRequest, Assert.Throws<PciPassthroughException>(() => manager.PlanCreate(request with { Persist = false })).ErrorId);
    }

    [Fact]
    public void Refusals_have_stable_ids_and_write_nothing()
    {
        using var host = MdevHost.Create(mtty1Available: 0);
        var (manager, kernel) = Make(host);
        MediatedDeviceRequest R(string parent, string type, string uuid = U1) => new(parent, type, uuid);
        string Id(MediatedDeviceRequest r) => Assert.Throws<PciPassthroughException>(() => manager.Create(r)).ErrorId;

        Assert.Equal(ErrorIds.MediatedDeviceTypeExhausted, Id(R("mtty", "mtty-1")));
        Assert.Equal(ErrorIds.MediatedDeviceTypeNotFound, Id(R("mtty", "mtty-9")));
        var parent = Assert.Throws<PciPassthroughException>(() => manager.Create(R("MTTY", "mtty-1")));
        Assert.Equal(ErrorIds.MediatedDeviceParentNotFound, parent.ErrorId);
        Assert.Contains("'mtty'", parent.RecommendedAction, StringComparison.Ordinal); // mdevctl suggests the case-insensitive match too
        Assert.Equal(ErrorIds.MediatedDeviceParentNotFound, Id(R("../../../etc", "mtty-1")));
        Assert.Equal(ErrorIds.InvalidUuid, Id(R("mtty", "mtty-2", "not-a-uuid")));
        Assert.Equal(ErrorIds.InvalidMediatedDeviceAttribute, Id(R("mtty", "mtty-2") with { Attributes = [new("../remove", "1")] }));
        Assert.Empty(kernel.Writes);
    }

    [Fact]
    public void A_taken_uuid_is_reused_on_the_same_type_and_refused_on_another()
    {
        using var host = MdevHost.Create();
        var (manager, kernel) = Make(host);
        manager.Create(new("mtty", "mtty-1", U1));
        var again = manager.PlanCreate(new("mtty", "mtty-1", U1));
        Assert.True(again.AlreadyActive);
        Assert.Empty(again.Writes);
        Assert.Equal(ErrorIds.MediatedDeviceExists, Assert.Throws<PciPassthroughException>(() => manager.Create(new("mtty", "mtty-2", U1))).ErrorId);
        Assert.Equal(ErrorIds.MediatedDeviceExists, Assert.Throws<PciPassthroughException>(() => manager.Create(new(MdevHost.Gpu, "nvidia-558", U1))).ErrorId);
        Assert.Single(kernel.Writes);
    }

    [Fact]
    public void The_kernels_eexist_for_a_uuid_the_planner_did_not_see_is_MediatedDeviceExists()
    {
        using var host = MdevHost.Create();
        var (manager, kernel) = Make(host);
        MdevHost.AddInstance(host, MdevHost.Mtty, "mtty-1", U2, 30);
        File.Delete(Path.Combine(host.Root, "sys/bus/mdev/devices", U2)); // the planner does not see it; the kernel does
        Assert.Equal(ErrorIds.MediatedDeviceExists, Assert.Throws<PciPassthroughException>(() => manager.Create(new("mtty", "mtty-1", U2))).ErrorId);
        Assert.Equal(("/sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1/create", U2), Assert.Single(kernel.Writes)); // EEXIST from the kernel itself
    }

    [Fact]
    public void A_failing_attribute_removes_the_device_again_and_writes_no_definition()
    {
        using var host = MdevHost.Create();
        var (manager, kernel) = Make(host);
        kernel.FailAttribute = "baz";
        var e = Assert.Throws<PciPassthroughException>(() => manager.Create(new("mtty", "mtty-1", U1) { Attributes = [new("foo", "1"), new("baz", "2")], Persist = true }));
        Assert.Equal(ErrorIds.MediatedDeviceCreateFailed, e.ErrorId);
        Assert.Equal($"/sys/bus/mdev/devices/{U1}/remove", kernel.Writes[^1].Path);
        Assert.Null(Reader(host).Active(U1));
        Assert.Equal("24", Available(host, "mtty-1"));
        Assert.False(Directory.Exists(Path.Combine(host.Root, "etc/mdevctl.d/mtty")));
    }

    [Fact]
    public void Removal_is_refused_while_the_group_is_open_unless_forced_and_undefine_deletes_the_definition()
    {
        using var host = MdevHost.Create();
        var (manager, kernel) = Make(host);
        manager.Create(new("mtty", "mtty-1", U1) { Persist = true });
        host.AddProcess(4242, "qemu-system-x86", ["qemu-system-x86_64"], "/dev/vfio/16");
        var e = Assert.Throws<PciPassthroughException>(() => manager.Remove(U1, undefine: true, force: false));
        Assert.Equal(ErrorIds.MediatedDeviceInUse, e.ErrorId);
        Assert.Contains("qemu-system-x86[4242]", e.Message, StringComparison.Ordinal);
        Assert.Single(kernel.Writes);
        Assert.Equal(
            $"remove mdev {U1} (mtty mtty-1, ActiveAndDefined, in use by qemu-system-x86[4242] (/dev/vfio/16 of mdev {U1})): write '1' to /sys/bus/mdev/devices/{U1}/remove; delete /etc/mdevctl.d/mtty/{U1}",
            manager.PlanRemove(U1, undefine: true, force: true).Describe());

        manager.Remove(U1, undefine: false, force: true);
        var left = Assert.Single(Reader(host).Devices().Devices);
        Assert.Equal(MediatedDeviceState.Defined, left.State); // the definition stays without -Undefine
        Assert.Equal(ErrorIds.MediatedDeviceNotFound, Assert.Throws<PciPassthroughException>(() => manager.Remove(U1, undefine: false, force: false)).ErrorId);
        manager.Remove(U1, undefine: true, force: false);
        Assert.Empty(Reader(host).Devices().Devices);
        Assert.Equal(ErrorIds.MediatedDeviceNotFound, Assert.Throws<PciPassthroughException>(() => manager.Remove(U1, undefine: true, force: false)).ErrorId);
    }

    [Theory]
    [InlineData("0000:41:00.4", "b3e9ad96-63aa-5559-97f4-18aad1129e01")]
    [InlineData("mtty-vm-42", "7b518e31-5617-5f91-8c16-bde4d1a1a3f3")]
    [InlineData("ünïcode name", "154c46d7-d2f5-571a-8bd5-270edcc78f78")]
    public void Deterministic_uuids_are_uuidgens_sha1_x500_uuids(string name, string printedByUuidgen)
    {
        // The vectors were printed by util-linux's uuidgen 2.38.1 (Debian uuid-runtime); where uuidgen is
        // installed, it is asked again, so the comparison is with the real program.
        Assert.Equal(printedByUuidgen, NameBasedUuid.X500Sha1(name));
        if (Uuidgen(name) is { } live)
        {
            Assert.Equal(live, NameBasedUuid.X500Sha1(name));
        }
    }

    private static string? Uuidgen(string name)
    {
        try
        {
            var psi = new ProcessStartInfo("uuidgen") { RedirectStandardOutput = true, ArgumentList = { "--sha1", "--namespace", "@x500", "--name", name } };
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return p.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // uuidgen not installed
        }
    }
}
