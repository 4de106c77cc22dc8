using System.Globalization;
using PciPassthrough.Binding;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// Plays drivers/pci/iov.c on a fixture tree: sriov_numvfs answers EINVAL, ERANGE, ENOENT and EBUSY as
/// sriov_numvfs_store does, creates VFs (virtfn links, own IOMMU groups, the PF's autoprobe deciding whether they
/// get a driver) and removes them; sriov_drivers_autoprobe is stored. Every other write goes to the binding
/// FakeKernel. A numvfs write can be made to hang until released.
/// </summary>
internal sealed class SriovKernel(FakeHost host) : IKernel
{
    private readonly FakeKernel _binding = new(host);
    private int _nextGroup = 100;

    public List<(string Path, string Value)> Writes { get; } = [];

    public ManualResetEventSlim? Hang { get; set; }

    /// <summary>The driver VFs get when autoprobe is on.</summary>
    public string VfDriver { get; set; } = "igbvf";

    public void Write(string hostPath, string value)
    {
        lock (Writes)
        {
            Writes.Add((hostPath, value));
        }

        var parts = hostPath.Split('/');
        var address = parts.Length > 5 ? parts[5] : "";
        switch (parts[^1])
        {
            case "sriov_numvfs":
                Hang?.Wait();
                NumVfs(address, value);
                break;
            case "sriov_drivers_autoprobe":
                File.WriteAllText(host.Root + hostPath, value.Trim() + "\n");
                break;
            default:
                _binding.Write(hostPath, value);
                break;
        }
    }

    public bool LoadModule(string name) => _binding.LoadModule(name);

    private string Read(string address, string file) => File.ReadAllText(Path.Combine(host.DeviceDir(address), file)).Trim();

    private void NumVfs(string pf, string value)
    {
        if (!ushort.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            throw new IOException("Invalid argument", 22);
        }

        if (n > int.Parse(Read(pf, "sriov_totalvfs"), CultureInfo.InvariantCulture))
        {
            throw new IOException("Numerical result out of range", 34);
        }

        var current = int.Parse(Read(pf, "sriov_numvfs"), CultureInfo.InvariantCulture);
        if (n == current)
        {
            return;
        }

        var driver = new FileInfo(Path.Combine(host.DeviceDir(pf), "driver")).LinkTarget;
        if (driver is null || Path.GetFileName(driver) == "vfio-pci")
        {
            throw new IOException("No such file or directory", 2);
        }

        if (n == 0)
        {
            for (var i = 0; i < current; i++)
            {
                Remove(pf, i);
            }
        }
        else if (current != 0)
        {
            throw new IOException("Device or resource busy", 16);
        }
        else
        {
            var pfAddress = PciAddress.Parse(pf);
            var offset = int.Parse(Read(pf, "sriov_offset"), CultureInfo.InvariantCulture);
            var stride = int.Parse(Read(pf, "sriov_stride"), CultureInfo.InvariantCulture);
            var autoprobe = Read(pf, "sriov_drivers_autoprobe") == "1";
            for (var i = 0; i < n; i++)
            {
                var id = (pfAddress.BusNumber << 8) + (pfAddress.SlotNumber << 3) + pfAddress.FunctionNumber + offset + (stride * i);
                var vf = new PciAddress(pfAddress.DomainNumber, id >> 8, (id >> 3) & 0x1f, id & 7).ToString();
                host.Add(new FakeDevice(vf)
                {
                    Vendor = Convert.ToInt32(Read(pf, "vendor"), 16),
                    Device = Convert.ToInt32(Read(pf, "sriov_vf_device"), 16),
                    ClassCode = Convert.ToInt32(Read(pf, "class"), 16),
                    IommuGroup = _nextGroup++,
                    PhysicalFunction = pf,
                    VfIndex = i,
                    Driver = autoprobe ? VfDriver : null,
                });
            }
        }

        File.WriteAllText(Path.Combine(host.DeviceDir(pf), "sriov_numvfs"), n.ToString(CultureInfo.InvariantCulture) + "\n");
    }

    private void Remove(string pf, int index)
    {
        var link = Path.Combine(host.DeviceDir(pf), "virtfn" + index.ToString(CultureInfo.InvariantCulture));
        var vf = Path.GetFileName(new FileInfo(link).LinkTarget!);
        var real = new DirectoryInfo(host.DeviceDir(vf)).ResolveLinkTarget(true)!.FullName;
        var group = new FileInfo(Path.Combine(real, "iommu_group")).LinkTarget;
        if (group is not null)
        {
            File.Delete(Path.Combine(host.Root, "sys/kernel/iommu_groups", Path.GetFileName(group), "devices", vf));
        }

        var driver = new FileInfo(Path.Combine(real, "driver")).LinkTarget;
        if (driver is not null)
        {
            File.Delete(Path.Combine(host.Root, "sys/bus/pci/drivers", Path.GetFileName(driver), vf));
        }

        Directory.Delete(real, recursive: true);
        File.Delete(host.DeviceDir(vf));
        File.Delete(link);
    }
}
