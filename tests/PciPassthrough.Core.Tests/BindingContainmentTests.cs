using PciPassthrough.Binding;
using PciPassthrough.HostFs;

namespace PciPassthrough.Core.Tests;

/// <summary>A captured tree whose links lead out of it must never get a write outside it (D4, D7).</summary>
public sealed class BindingContainmentTests : IDisposable
{
    private const string Nic1 = BindingFixture.Nic1;
    private readonly string _outside = Path.Combine(Path.GetTempPath(), "pcipt-outside-" + Guid.NewGuid().ToString("N"));

    public BindingContainmentTests() => Directory.CreateDirectory(_outside);

    public void Dispose() => Directory.Delete(_outside, recursive: true);

    [Fact]
    public void A_device_directory_linked_absolutely_out_of_the_root_is_refused_and_its_driver_override_is_untouched()
    {
        using var f = new BindingFixture();
        var victim = MoveDeviceOutside(f, Nic1);
        var overridePath = Path.Combine(victim, "driver_override");
        var before = (File.ReadAllText(overridePath), File.GetLastWriteTimeUtc(overridePath));

        foreach (var kernel in new IKernel[] { f.Kernel, new LiveKernel(f.Root) })
        {
            var e = Assert.Throws<PciPassthroughException>(() => f.Binder(kernel: kernel).Bind([Nic1], f.Log.Add));
            Assert.Equal(ErrorIds.OutsideRoot, e.ErrorId);
        }

        Assert.Equal(before, (File.ReadAllText(overridePath), File.GetLastWriteTimeUtc(overridePath)));
        Assert.Empty(f.Kernel.Writes);
        Assert.Empty(new BindingState(f.Root).ReadJournal());
    }

    [Fact]
    public void The_live_kernel_refuses_a_write_whose_directories_lead_out_of_the_root()
    {
        using var f = new BindingFixture();
        var victim = MoveDeviceOutside(f, Nic1);
        var stamp = File.GetLastWriteTimeUtc(Path.Combine(victim, "driver_override"));
        var e = Assert.Throws<PciPassthroughException>(() => new LiveKernel(f.Root).Write($"/sys/bus/pci/devices/{Nic1}/driver_override", "vfio-pci\n"));
        Assert.Equal(ErrorIds.OutsideRoot, e.ErrorId);
        Assert.Equal("(null)\n", File.ReadAllText(Path.Combine(victim, "driver_override")));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(victim, "driver_override")));
    }

    [Fact]
    public void The_live_kernel_never_follows_a_link_at_the_attribute_itself()
    {
        using var f = new BindingFixture();
        var victim = Path.Combine(_outside, "victim");
        File.WriteAllText(victim, "untouched");
        var attribute = Path.Combine(f.Host.DeviceDir(Nic1), "driver_override");
        File.Delete(attribute);
        File.CreateSymbolicLink(attribute, victim);

        Assert.ThrowsAny<IOException>(() => new LiveKernel(f.Root).Write($"/sys/bus/pci/devices/{Nic1}/driver_override", "vfio-pci\n"));
        Assert.Equal("untouched", File.ReadAllText(victim));
    }

    [Fact]
    public void The_live_kernel_writes_an_attribute_inside_the_root()
    {
        using var f = new BindingFixture();
        new LiveKernel(f.Root).Write($"/sys/bus/pci/devices/{Nic1}/driver_override", "vfio-pci\n");
        Assert.Equal("vfio-pci\n", File.ReadAllText(Path.Combine(f.Host.DeviceDir(Nic1), "driver_override")));
    }

    [Fact]
    public void Links_planted_at_the_old_temp_names_are_not_followed()
    {
        using var f = new BindingFixture();
        var journalVictim = Path.Combine(_outside, "B-journal-tmp");
        var originVictim = Path.Combine(_outside, "B-origin-tmp");
        File.WriteAllText(journalVictim, "untouched");
        File.WriteAllText(originVictim, "untouched");
        f.Host.Link("run/pcipassthrough/journal.tmp", journalVictim);
        f.Host.Link($"run/pcipassthrough/origins/{Nic1}.tmp", originVictim);

        f.Binder().Bind([Nic1], f.Log.Add);

        Assert.Equal("untouched", File.ReadAllText(journalVictim));
        Assert.Equal("untouched", File.ReadAllText(originVictim));
        Assert.Equal(("vfio-pci", "vfio-pci"), f.State(Nic1));
        Assert.Equal(new DeviceOrigin(Nic1, "e1000", null), new BindingState(f.Root).ReadOrigin(Nic1));
        Assert.DoesNotContain(Directory.GetFiles(f.Root.Resolve(BindingState.Directory), "*.tmp", SearchOption.AllDirectories), p => new FileInfo(p).LinkTarget is null);
    }

    [Fact]
    public void A_symlinked_state_directory_is_refused_even_inside_the_root()
    {
        using var f = new BindingFixture();
        Directory.CreateDirectory(Path.Combine(f.Host.Root, "run/elsewhere"));
        f.Host.Link("run/pcipassthrough", "elsewhere");
        var e = Assert.Throws<PciPassthroughException>(() => f.Binder().Bind([Nic1], f.Log.Add));
        Assert.Equal(ErrorIds.StateDirectoryUnsafe, e.ErrorId);
        Assert.Empty(f.Kernel.Writes);
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(f.Host.Root, "run/elsewhere")));

        File.Delete(Path.Combine(f.Host.Root, "run/pcipassthrough"));
        f.Host.Link("run/pcipassthrough/origins", _outside);
        Assert.Equal(ErrorIds.StateDirectoryUnsafe, Assert.Throws<PciPassthroughException>(() => new BindingState(f.Root).SaveOrigin(new DeviceOrigin(Nic1, "e1000", null))).ErrorId);
    }

    // The finding's tree: sys/bus/pci/devices/<addr> is an absolute link to a copy of the device outside.
    private string MoveDeviceOutside(BindingFixture f, string address)
    {
        var link = f.Host.DeviceDir(address);
        var real = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(link)!, new DirectoryInfo(link).LinkTarget!));
        var victim = Path.Combine(_outside, "D-device-" + address);
        Directory.Move(real, victim);
        File.Delete(link);
        Directory.CreateSymbolicLink(link, victim);
        File.SetLastWriteTimeUtc(Path.Combine(victim, "driver_override"), new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        return victim;
    }
}
