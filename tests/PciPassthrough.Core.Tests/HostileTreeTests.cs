using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Iommu;
using PciPassthrough.Readiness;
using PciPassthrough.Safety;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Core.Tests;

/// <summary>Damaged or hostile sysfs trees (D22, D23): no duplicate or phantom device, no group called "alone" that is not there.</summary>
public class HostileTreeTests
{
    [Fact]
    public void A_second_name_for_a_device_and_a_plain_file_with_a_device_name_are_not_devices()
    {
        using var host = new FakeHost().Add(new FakeDevice("0000:00:00.0")).Add(new FakeDevice("10000:00:02.0"));
        host.Link("sys/bus/pci/devices/00000:00:00.0", "../../../devices/pci0000:00/0000:00:00.0");
        host.WriteFile("sys/bus/pci/devices/0000:ff:1f.7", "not a device");
        var reader = new PciDeviceReader(new HostRoot(host.Root), PciIdDatabase.Empty);

        // A domain above ffff has five digits (Intel VMD); a padded one is a second name for domain 0.
        Assert.Equal(["0000:00:00.0", "10000:00:02.0"], reader.ListAddresses().Select(a => a.ToString()));
    }

    [Fact]
    public void A_group_link_leading_out_of_the_tree_is_unknown_for_readiness_and_a_refusal_for_binding()
    {
        using var host = new FakeHost().WithHealthyIntelIommu().Add(new FakeDevice("0000:01:00.0") { IommuGroup = 7, Driver = "e1000e" });
        // The device's group link now names group 77, which only exists outside the tree.
        var link = Path.Combine(host.Root, "sys/devices/pci0000:01/0000:01:00.0/iommu_group");
        File.Delete(link);
        var outside = Directory.CreateTempSubdirectory("pcipt-outside-");
        try
        {
            Directory.CreateDirectory(Path.Combine(outside.FullName, "groups/77/devices"));
            File.CreateSymbolicLink(link, Path.Combine(outside.FullName, "groups/77"));
            var root = new HostRoot(host.Root);
            var devices = new PciDeviceReader(root, PciIdDatabase.Empty);
            var device = devices.Read(PciAddress.Parse("0000:01:00.0"))!;
            Assert.Equal(77, device.IommuGroup);

            var readiness = new PassthroughReadinessInspector(root, devices).Assess(device);
            var isolation = readiness.Findings.Single(c => c.Name == "GroupIsolation");
            Assert.Equal(CheckStatus.Unknown, isolation.Status);
            Assert.DoesNotContain("Alone", isolation.Detail);

            var rule = new DeviceSafetyRules(root).Evaluate(device, SafetyPurpose.Bind).Single(f => f.Name == "IommuGroup");
            Assert.Equal(CheckStatus.Fail, rule.Status);
            Assert.Equal(ErrorIds.IommuGroupNotFound, rule.ErrorId);
        }
        finally
        {
            outside.Delete(recursive: true);
        }
    }
}
