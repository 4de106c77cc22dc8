using System.Globalization;

namespace PciPassthrough.TestSupport;

/// <summary>
/// A host with mediated-device parents laid out as the kernel does (LAB L18/L19): the mtty sample (a
/// parent that is no PCI device) with types mtty-1 and mtty-2, and a PCI parent 0000:41:00.0 with one
/// NVIDIA-style type that has a description.
/// </summary>
public static class MdevHost
{
    public const string Mtty = "sys/devices/virtual/mtty/mtty";
    public const string Gpu = "0000:41:00.0";

    public static FakeHost Create(int mtty1Available = 24, int mtty2Available = 12)
    {
        var host = new FakeHost();
        host.Add(new FakeDevice(Gpu) { Vendor = 0x10de, Device = 0x1eb8, ClassCode = 0x030200, Driver = "nvidia", IommuGroup = 3 });
        AddType(host, Mtty, "mtty-1", "Single port serial", null, mtty1Available);
        AddType(host, Mtty, "mtty-2", "Dual port serial", null, mtty2Available);
        host.Link("sys/class/mdev_bus/mtty", "../../devices/virtual/mtty/mtty");
        AddType(host, $"sys/devices/pci0000:41/{Gpu}", "nvidia-558", "GRID T4-2Q", "num_heads=4, frl_config=60, framebuffer=2048M", 8);
        host.Link($"sys/class/mdev_bus/{Gpu}", $"../../devices/pci0000:41/{Gpu}");
        Directory.CreateDirectory(Path.Combine(host.Root, "sys/bus/mdev/devices"));
        Directory.CreateDirectory(Path.Combine(host.Root, "etc/mdevctl.d/scripts.d/callouts")); // as Debian's mdevctl package installs it
        Directory.CreateDirectory(Path.Combine(host.Root, "etc/mdevctl.d/scripts.d/notifiers"));
        return host;
    }

    public static void AddType(FakeHost host, string parentDir, string type, string? name, string? description, int available)
    {
        var dir = $"{parentDir}/mdev_supported_types/{type}";
        if (name is not null) host.WriteFile($"{dir}/name", name + "\n");
        if (description is not null) host.WriteFile($"{dir}/description", description + "\n");
        host.WriteFile($"{dir}/available_instances", available.ToString(CultureInfo.InvariantCulture) + "\n");
        host.WriteFile($"{dir}/device_api", "vfio-pci\n");
        host.WriteFile($"{dir}/create", "");
        Directory.CreateDirectory(Path.Combine(host.Root, dir, "devices"));
    }

    /// <summary>What the kernel does on a successful create: the instance, its links, one instance fewer.</summary>
    public static void AddInstance(FakeHost host, string parentDir, string type, string uuid, int group)
    {
        var dir = $"{parentDir}/{uuid}";
        host.WriteFile($"{dir}/remove", "");
        host.Link($"{dir}/mdev_type", $"../mdev_supported_types/{type}");
        host.Link($"{dir}/iommu_group", $"/sys/kernel/iommu_groups/{group}");
        host.Link($"{dir}/driver", "../../../../bus/mdev/drivers/vfio_mdev");
        var depth = string.Concat(Enumerable.Repeat("../", 3));
        host.Link($"sys/bus/mdev/devices/{uuid}", $"{depth}{parentDir["sys/".Length..]}/{uuid}");
        host.Link($"{parentDir}/mdev_supported_types/{type}/devices/{uuid}", $"../../../{uuid}");
        host.WriteFile($"dev/vfio/{group}", "");
        AdjustAvailable(host, parentDir, type, -1);
    }

    public static void RemoveInstance(FakeHost host, string parentDir, string uuid)
    {
        var dir = Path.Combine(host.Root, parentDir, uuid);
        var type = new FileInfo(Path.Combine(dir, "mdev_type")).LinkTarget!.Split('/')[^1];
        Directory.Delete(dir, recursive: true);
        File.Delete(Path.Combine(host.Root, "sys/bus/mdev/devices", uuid));
        File.Delete(Path.Combine(host.Root, parentDir, "mdev_supported_types", type, "devices", uuid));
        AdjustAvailable(host, parentDir, type, +1);
    }

    private static void AdjustAvailable(FakeHost host, string parentDir, string type, int delta)
    {
        var file = Path.Combine(host.Root, parentDir, "mdev_supported_types", type, "available_instances");
        var n = int.Parse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture) + delta;
        File.WriteAllText(file, n.ToString(CultureInfo.InvariantCulture) + "\n");
    }
}
