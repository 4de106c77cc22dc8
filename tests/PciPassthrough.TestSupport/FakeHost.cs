using System.Globalization;

namespace PciPassthrough.TestSupport;

/// <summary>
/// Writes a host filesystem tree shaped like the kernel's sysfs (real directories under
/// sys/devices, links from sys/bus/pci/devices, drivers and IOMMU groups), complete enough that lspci
/// reads it too with <c>-A linux-sysfs -O sysfs.path=&lt;root&gt;/sys/bus/pci</c>.
/// </summary>
public sealed class FakeHost : IDisposable
{
    public FakeHost()
    {
        Root = Path.Combine(Path.GetTempPath(), "pcipt-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path.Combine(Root, "sys/bus/pci/devices"));
        Directory.CreateDirectory(Path.Combine(Root, "sys/bus/pci/drivers"));
        Directory.CreateDirectory(Path.Combine(Root, "sys/kernel/iommu_groups"));
        Directory.CreateDirectory(Path.Combine(Root, "proc"));
        Directory.CreateDirectory(Path.Combine(Root, "dev"));
    }

    public string Root { get; }

    private readonly Dictionary<string, string> _placed = new(StringComparer.Ordinal);

    /// <summary>The lspci sysfs.path equivalent of this tree.</summary>
    public string SysBusPci => Path.Combine(Root, "sys/bus/pci");

    public string DeviceDir(string address) => Path.Combine(Root, "sys/bus/pci/devices", address);

    public FakeHost Add(FakeDevice d)
    {
        var domainBus = d.Address[..7];
        var relative = d.Parent is string parent && _placed.TryGetValue(parent, out var parentPath) ? parentPath + "/" + d.Address : $"pci{domainBus}/{d.Address}";
        _placed[d.Address] = relative;
        var real = Path.Combine(Root, "sys/devices", relative);
        Directory.CreateDirectory(real);
        File.CreateSymbolicLink(DeviceDir(d.Address), $"../../../devices/{relative}");
        if (d.ResetMethods is string methods)
        {
            Write(real, "reset", "");
            Write(real, "reset_method", methods);
        }

        Write(real, "vendor", Hex(d.Vendor, 4));
        Write(real, "device", Hex(d.Device, 4));
        Write(real, "class", Hex(d.ClassCode, 6));
        Write(real, "revision", Hex(d.Revision, 2));
        if (d.SubsystemVendor is int sv) Write(real, "subsystem_vendor", Hex(sv, 4));
        if (d.SubsystemDevice is int sd) Write(real, "subsystem_device", Hex(sd, 4));
        if (d.Uevent) Write(real, "uevent", Uevent(d));
        Write(real, "irq", "0");
        Write(real, "resource", string.Concat(Enumerable.Repeat("0x0000000000000000 0x0000000000000000 0x0000000000000000\n", 7)).TrimEnd('\n'));
        Write(real, "numa_node", d.NumaNode.ToString(CultureInfo.InvariantCulture));
        if (d.LocalCpuList is not null) Write(real, "local_cpulist", d.LocalCpuList);
        Write(real, "driver_override", d.DriverOverride ?? "(null)");
        if (d.BootVga is bool vga) Write(real, "boot_vga", vga ? "1" : "0");
        File.WriteAllBytes(Path.Combine(real, "config"), d.ConfigBytes ?? Config(d));

        if (d.Driver is not null)
        {
            var driverDir = Path.Combine(Root, "sys/bus/pci/drivers", d.Driver);
            Directory.CreateDirectory(driverDir);
            File.CreateSymbolicLink(Path.Combine(real, "driver"), $"../../../bus/pci/drivers/{d.Driver}");
            var back = Path.Combine(driverDir, d.Address);
            if (!File.Exists(back)) File.CreateSymbolicLink(back, $"../../../../devices/{relative}");
        }

        if (d.IommuGroup is int g)
        {
            var groupDevices = Path.Combine(Root, "sys/kernel/iommu_groups", g.ToString(CultureInfo.InvariantCulture), "devices");
            Directory.CreateDirectory(groupDevices);
            File.CreateSymbolicLink(Path.Combine(real, "iommu_group"), $"../../../kernel/iommu_groups/{g}");
            File.CreateSymbolicLink(Path.Combine(groupDevices, d.Address), $"../../../../devices/{relative}");
        }

        if (d.TotalVfs is int total)
        {
            Write(real, "sriov_totalvfs", total.ToString(CultureInfo.InvariantCulture));
            Write(real, "sriov_numvfs", (d.NumVfs ?? 0).ToString(CultureInfo.InvariantCulture));
            if (d.DriversAutoprobe is int autoprobe) Write(real, "sriov_drivers_autoprobe", autoprobe.ToString(CultureInfo.InvariantCulture));
            if (d.VfOffset is int offset) Write(real, "sriov_offset", offset.ToString(CultureInfo.InvariantCulture));
            if (d.VfStride is int stride) Write(real, "sriov_stride", stride.ToString(CultureInfo.InvariantCulture));
            if (d.VfDevice is int vfDevice) Write(real, "sriov_vf_device", vfDevice.ToString("x", CultureInfo.InvariantCulture));
        }

        if (d.PhysicalFunction is not null)
        {
            File.CreateSymbolicLink(Path.Combine(real, "physfn"), "../" + d.PhysicalFunction);
            var pf = Path.Combine(Root, "sys/devices", "pci" + d.PhysicalFunction[..7], d.PhysicalFunction);
            if (Directory.Exists(pf))
            {
                File.CreateSymbolicLink(Path.Combine(pf, "virtfn" + d.VfIndex.ToString(CultureInfo.InvariantCulture)), "../" + d.Address);
            }
        }

        foreach (var ifname in d.NetworkInterfaces)
        {
            Directory.CreateDirectory(Path.Combine(real, "net", ifname));
        }

        return this;
    }

    /// <summary>Writes (or overwrites) a file below the root, creating its directories.</summary>
    public string WriteFile(string relativePath, string content)
    {
        var path = Path.Combine(Root, relativePath.TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>A process under the fake /proc: its name, its command line, and a file it holds open
    /// (a guest holds /dev/vfio/N).</summary>
    public FakeHost AddProcess(int pid, string comm, string[] cmdline, string openFile)
    {
        var id = pid.ToString(CultureInfo.InvariantCulture);
        WriteFile($"proc/{id}/comm", comm + "\n");
        WriteFile($"proc/{id}/cmdline", string.Join('\0', cmdline) + "\0");
        Directory.CreateDirectory(Path.Combine(Root, $"proc/{id}/fd"));
        File.CreateSymbolicLink(Path.Combine(Root, $"proc/{id}/fd/0"), "/dev/null");
        File.CreateSymbolicLink(Path.Combine(Root, $"proc/{id}/fd/17"), openFile);
        return this;
    }

    /// <summary>A process holding several files open (a guest on iommufd holds /dev/iommu and /dev/vfio/devices/vfioN).</summary>
    public FakeHost AddProcess(int pid, string comm, string[] cmdline, params string[] openFiles)
    {
        AddProcess(pid, comm, cmdline, openFiles[0]);
        for (var i = 1; i < openFiles.Length; i++)
        {
            File.CreateSymbolicLink(Path.Combine(Root, $"proc/{pid.ToString(CultureInfo.InvariantCulture)}/fd/{(17 + i).ToString(CultureInfo.InvariantCulture)}"), openFiles[i]);
        }

        return this;
    }

    /// <summary>A process whose open files cannot be listed, as another user's are to a caller who is not root.</summary>
    public FakeHost AddUnreadableProcess(int pid, string comm)
    {
        var id = pid.ToString(CultureInfo.InvariantCulture);
        WriteFile($"proc/{id}/comm", comm + "\n");
        WriteFile($"proc/{id}/cmdline", comm + "\0");
        WriteFile($"proc/{id}/fd", ""); // not a folder: listing it fails while the process is still there
        return this;
    }

    /// <summary>
    /// A device registered as a vfio device file, as the kernel does with CONFIG_VFIO_DEVICE_CDEV: its
    /// <c>vfio-dev/vfio&lt;N&gt;</c> folder, the class link <c>/sys/class/vfio-dev/vfio&lt;N&gt;</c> and the node
    /// <c>/dev/vfio/devices/vfio&lt;N&gt;</c>. <paramref name="deviceDir"/> is the device's folder below the root
    /// (a PCI function's, or an mdev's under its parent).
    /// </summary>
    public FakeHost AddVfioDeviceFile(string deviceDir, int n, bool classLink = true)
    {
        var node = "vfio" + n.ToString(CultureInfo.InvariantCulture);
        var real = Path.GetRelativePath(Path.Combine(Root, "sys"), ResolveDirectory(Path.Combine(Root, deviceDir.TrimStart('/'))));
        Directory.CreateDirectory(Path.Combine(Root, "sys", real, "vfio-dev", node));
        if (classLink)
        {
            Link($"sys/class/vfio-dev/{node}", $"../../{real}/vfio-dev/{node}");
        }

        WriteFile($"dev/vfio/devices/{node}", "");
        return this;
    }

    private static string ResolveDirectory(string path)
    {
        var info = new DirectoryInfo(path);
        return info.LinkTarget is null ? info.FullName : info.ResolveLinkTarget(returnFinalTarget: true)!.FullName;
    }

    /// <summary>Creates a symbolic link below the root (its directories too), replacing an old one.</summary>
    public FakeHost Link(string relativePath, string target)
    {
        var path = Path.Combine(Root, relativePath.TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path) || new FileInfo(path).LinkTarget is not null)
        {
            File.Delete(path);
        }

        File.CreateSymbolicLink(path, target);
        return this;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string Hex(int value, int digits) => "0x" + value.ToString("x" + digits, CultureInfo.InvariantCulture);

    // As pci_uevent prints it (after dev_uevent's DRIVER line): upper-case hex, the class as "%04X".
    private static string Uevent(FakeDevice d)
    {
        var lines = new List<string>();
        if (d.Driver is not null) lines.Add("DRIVER=" + d.Driver);
        lines.Add(FormattableString.Invariant($"PCI_CLASS={d.ClassCode:X4}"));
        lines.Add(FormattableString.Invariant($"PCI_ID={d.Vendor:X4}:{d.Device:X4}"));
        if (d.SubsystemVendor is int sv && d.SubsystemDevice is int sd) lines.Add(FormattableString.Invariant($"PCI_SUBSYS_ID={sv:X4}:{sd:X4}"));
        lines.Add("PCI_SLOT_NAME=" + d.Address);
        lines.Add(FormattableString.Invariant($"MODALIAS=pci:v{d.Vendor:X8}d{d.Device:X8}sv{d.SubsystemVendor ?? 0:X8}sd{d.SubsystemDevice ?? 0:X8}bc{d.ClassCode >> 16:X2}sc{(d.ClassCode >> 8) & 0xff:X2}i{d.ClassCode & 0xff:X2}"));
        return string.Join('\n', lines);
    }

    private static void Write(string dir, string name, string value) => File.WriteAllText(Path.Combine(dir, name), value + "\n");

    // A 256-byte configuration space that agrees with the attribute files, as lspci reads both.
    private static byte[] Config(FakeDevice d)
    {
        var c = new byte[256];
        c[0] = (byte)d.Vendor; c[1] = (byte)(d.Vendor >> 8);
        c[2] = (byte)d.Device; c[3] = (byte)(d.Device >> 8);
        c[8] = (byte)d.Revision;
        c[9] = (byte)d.ClassCode; c[10] = (byte)(d.ClassCode >> 8); c[11] = (byte)(d.ClassCode >> 16);
        c[0x0e] = (byte)(d.HeaderType | (d.MultiFunction ? 0x80 : 0));
        if (d.HeaderType == 0 && d.SubsystemVendor is int sv && d.SubsystemDevice is int sd)
        {
            c[0x2c] = (byte)sv; c[0x2d] = (byte)(sv >> 8);
            c[0x2e] = (byte)sd; c[0x2f] = (byte)(sd >> 8);
        }

        return c;
    }
}
