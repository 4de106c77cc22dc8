using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Iommu;
using PciPassthrough.Readiness;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Core.Tests;

/// <summary>Defined libvirt domains that are not running and name a device (issue 23): reported, never blocking.</summary>
public class LibvirtDefinitionsTests
{
    private const string Nic = "0000:01:00.0";
    private const string Vf = "0000:3b:02.1";

    private static string Domain(string name, string devices) =>
        $"<domain type='kvm'>\n  <name>{name}</name>\n  <memory unit='KiB'>1048576</memory>\n  <devices>\n{devices}\n  </devices>\n</domain>\n";

    private static FakeHost Host()
    {
        var host = new FakeHost();
        host.Add(new FakeDevice(Nic) { Device = 0x10d3, Driver = "vfio-pci", IommuGroup = 12 });
        host.Add(new FakeDevice(Vf) { Device = 0x154c, Driver = "iavf", IommuGroup = 90 });
        host.Add(new FakeDevice("0000:05:00.0") { Device = 0x10d3, Driver = "e1000e", IommuGroup = 14 });
        return host;
    }

    [Fact]
    public void A_defined_domain_that_is_not_running_is_reported_with_its_managed_flag()
    {
        using var host = Host();
        host.WriteFile("etc/libvirt/qemu/one-7.xml", Domain("one-7",
            "    <hostdev mode='subsystem' type='pci' managed='yes'>\n      <source>\n        <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n      </source>\n    </hostdev>"));
        host.WriteFile("etc/libvirt/qemu/router.xml", Domain("router",
            "    <interface type='hostdev' managed='no'>\n      <source>\n        <address type='pci' domain='0x0000' bus='0x3b' slot='0x02' function='0x1'/>\n      </source>\n    </interface>"));
        var devices = ReaderFixture.ReadAll(host).Devices;
        var a = Assert.Single(devices.Single(Nic).AssignedNotRunning);
        Assert.Equal(("one-7", (int?)7, true, "/etc/libvirt/qemu/one-7.xml"), (a.DomainName, a.VmId, a.Managed, a.DefinitionPath));
        var r = Assert.Single(devices.Single(Vf).AssignedNotRunning);
        Assert.Equal(("router", false), (r.DomainName, r.Managed));
        Assert.Empty(devices.Single("0000:05:00.0").AssignedNotRunning);
        Assert.Equal(DeviceUsage.NotInUse, devices.Single(Nic).Usage);
    }

    [Fact]
    public void A_running_domain_is_not_assigned_not_running()
    {
        using var host = Host();
        host.WriteFile("etc/libvirt/qemu/one-7.xml", Domain("one-7",
            "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0' bus='1' slot='0' function='0'/></source></hostdev>"));
        host.WriteFile("run/libvirt/qemu/one-7.pid", "227");
        Assert.Empty(ReaderFixture.ReadAll(host).Devices.Single(Nic).AssignedNotRunning);
    }

    [Theory]
    [InlineData("<domain><name>x</name><devices><hostdev mode='subsystem' type='pci'><source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>")]
    [InlineData("<!DOCTYPE d [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><domain><name>&e;</name></domain>")]
    [InlineData("")]
    [InlineData("<network><name>x</name><devices><hostdev type='pci'><source><address bus='0x01' slot='0' function='0'/></source></hostdev></devices></network>")]
    [InlineData("<domain><name>x</name><devices><hostdev mode='subsystem' type='usb'><source><address bus='1' device='0'/></source></hostdev><hostdev mode='capabilities' type='pci'><source><address bus='0x01' slot='0' function='0'/></source></hostdev></devices></domain>")]
    [InlineData("<domain><name>x</name><devices><hostdev type='pci'><source><address bus='0x101' slot='0' function='0'/></source></hostdev></devices></domain>")]
    public void A_definition_that_is_broken_hostile_or_names_no_PCI_function_is_evidence_of_nothing(string xml)
    {
        using var host = Host();
        host.WriteFile("etc/libvirt/qemu/x.xml", xml);
        host.WriteFile("etc/libvirt/qemu/not-a-definition.txt", Domain("y", "<hostdev type='pci'><source><address bus='1' slot='0' function='0'/></source></hostdev>"));
        Assert.All(ReaderFixture.ReadAll(host).Devices, d => Assert.Empty(d.AssignedNotRunning));
    }

    [Fact]
    public void An_mdev_hostdev_names_the_mdev_by_its_uuid()
    {
        var parsed = Libvirt.LibvirtDomainDefinitions.Parse(Domain("vgpu1",
            "<hostdev mode='subsystem' type='mdev' model='vfio-pci' managed='no'><source><address uuid='B1C2D3E4-0000-4000-8000-000000000001'/></source></hostdev>"));
        Assert.Equal(("vgpu1", "b1c2d3e4-0000-4000-8000-000000000001"), (parsed!.Value.Name, Assert.Single(parsed.Value.Devices).Device));
    }

    [Fact]
    public void Readiness_warns_about_a_defined_domain_but_binding_rules_do_not_block()
    {
        using var host = Host();
        host.WriteFile("etc/libvirt/qemu/one-7.xml", Domain("one-7",
            "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x05' slot='0x00' function='0x0'/></source></hostdev>"));
        var root = new HostRoot(host.Root);
        var reader = new PciDeviceReader(root, PciIdDatabaseLocator.Locate(root, null));
        var device = reader.Read(PciAddress.Parse("0000:05:00.0"))!;
        var finding = new PassthroughReadinessInspector(root, reader).Assess(device).Findings.Single(f => f.Name == "NotAssignedElsewhere");
        Assert.Equal(CheckStatus.Warning, finding.Status);
        Assert.Contains("one-7", finding.Detail, StringComparison.Ordinal);
        Assert.Contains("virsh edit", finding.Remedy, StringComparison.Ordinal);
        Assert.DoesNotContain(new Safety.DeviceSafetyRules(root).Evaluate(device, Safety.SafetyPurpose.Bind), f => f.Status == CheckStatus.Fail && f.Detail.Contains("one-7", StringComparison.Ordinal));
    }
}
