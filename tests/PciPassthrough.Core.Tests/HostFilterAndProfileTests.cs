using PciPassthrough.OpenNebula.Placement;
using PciPassthrough.OpenNebula.Templates;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// The core-side host filter (PCI_FILTER, PCI_SHORT_ADDRESS on a host or its cluster: plain string equality
/// per field, * or empty = any; a device must pass each given list; a host's attribute wins over its
/// cluster's) and the default vGPU profile (PCI_GPU_PROFILE sets PROFILE for NVIDIA 10de/0302 devices whose
/// section has none). Expected values written by hand.
/// </summary>
public class HostFilterAndProfileTests
{
    private const string Pool = """
        <HOST_POOL>
          <HOST><ID>1</ID><NAME>plain</NAME><HOST_SHARE><PCI_DEVICES>
            <PCI><ADDRESS>0000:c1:00:2</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2237</DEVICE><CLASS>0302</CLASS><VMID>-1</VMID></PCI>
            <PCI><ADDRESS>0000:c1:00:3</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2237</DEVICE><CLASS>0302</CLASS><VMID>-1</VMID></PCI>
            <PCI><ADDRESS>0000:02:00:0</ADDRESS><VENDOR>386e</VENDOR><DEVICE>0edc</DEVICE><CLASS>0200</CLASS><VMID>-1</VMID></PCI>
            <PCI><ADDRESS>0000:03:00:0</ADDRESS><VENDOR>8086</VENDOR><DEVICE>1520</DEVICE><CLASS>0200</CLASS><VMID>-1</VMID></PCI>
            <PCI><ADDRESS>0000:04:00:0</ADDRESS><VENDOR>10de</VENDOR><DEVICE>1eb8</DEVICE><CLASS>0300</CLASS><VMID>-1</VMID></PCI>
          </PCI_DEVICES></HOST_SHARE></HOST>
          <HOST><ID>2</ID><NAME>own</NAME><TEMPLATE><PCI_FILTER>10de:*</PCI_FILTER><PCI_SHORT_ADDRESS>c1:00.3, 04:00.0</PCI_SHORT_ADDRESS><PCI_GPU_PROFILE>nvidia-559</PCI_GPU_PROFILE></TEMPLATE><HOST_SHARE><PCI_DEVICES>
            <PCI><ADDRESS>0000:c1:00:2</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2237</DEVICE><CLASS>0302</CLASS><VMID>-1</VMID></PCI>
            <PCI><ADDRESS>0000:c1:00:3</ADDRESS><VENDOR>10de</VENDOR><DEVICE>2237</DEVICE><CLASS>0302</CLASS><VMID>-1</VMID></PCI>
            <PCI><ADDRESS>0000:02:00:0</ADDRESS><VENDOR>386e</VENDOR><DEVICE>0edc</DEVICE><CLASS>0200</CLASS><VMID>-1</VMID></PCI>
            <PCI><ADDRESS>0000:04:00:0</ADDRESS><VENDOR>10de</VENDOR><DEVICE>1eb8</DEVICE><CLASS>0300</CLASS><VMID>-1</VMID></PCI>
          </PCI_DEVICES></HOST_SHARE></HOST>
        </HOST_POOL>
        """;

    private static string Slots(PciHostInventory h) => string.Join(" ", h.Devices.Select(d => d.ShortAddress));

    [Theory]
    [InlineData(null, null, "02:00.0 03:00.0 04:00.0 c1:00.2 c1:00.3")]
    [InlineData("", "", "02:00.0 03:00.0 04:00.0 c1:00.2 c1:00.3")]
    [InlineData("10de:*,386e:0edc", null, "02:00.0 04:00.0 c1:00.2 c1:00.3")]
    [InlineData("*:0edc", null, "02:00.0")]
    [InlineData(":1520", null, "03:00.0")]
    [InlineData("10de:*:0302", null, "c1:00.2 c1:00.3")]
    [InlineData("10DE:*", null, "")]
    [InlineData(null, "c1:00.2,c1:00.3", "c1:00.2 c1:00.3")]
    [InlineData("10de:2237", "c1:00.3,02:00.0", "c1:00.3")]
    public void The_cluster_filter_keeps_what_matches_every_given_list(string? pciFilter, string? shortAddress, string slots)
    {
        var hosts = HostInventoryXml.Read(Pool, null, new PciHostFilter(pciFilter, shortAddress), null);
        Assert.Equal(slots, Slots(hosts[0]));
    }

    [Fact]
    public void A_hosts_own_filter_and_profile_win_over_the_clusters()
    {
        var hosts = HostInventoryXml.Read(Pool, null, new PciHostFilter("386e:*", null), "nvidia-558");
        Assert.Equal("02:00.0", Slots(hosts[0]));
        Assert.Equal("nvidia-558", hosts[0].GpuProfile);
        Assert.Equal("04:00.0 c1:00.3", Slots(hosts[1]));
        Assert.Equal("nvidia-559", hosts[1].GpuProfile);
        Assert.Equal("04:00.0 c1:00.3", Slots(HostInventoryXml.Read(Pool)[1]));
    }

    [Fact]
    public void The_default_profile_goes_to_nvidia_gpus_whose_section_has_none()
    {
        var host = HostInventoryXml.Read(Pool, null, null, "nvidia-558")[0];
        var sections = PciTemplateReader.Read("""
            PCI = [ SHORT_ADDRESS = "c1:00.2" ]
            PCI = [ SHORT_ADDRESS = "c1:00.3", PROFILE = "nvidia-560" ]
            PCI = [ SHORT_ADDRESS = "04:00.0" ]
            PCI = [ SHORT_ADDRESS = "02:00.0" ]
            """);
        var p = PciPlacer.Place(host, sections);
        Assert.Equal(["nvidia-558", "nvidia-560", null, null], p.Assignments.Select(a => a.Profile));
        Assert.Equal([null, "nvidia-560", null, null], PciPlacer.Place(HostInventoryXml.Read(Pool)[0], sections).Assignments.Select(a => a.Profile));
    }
}
