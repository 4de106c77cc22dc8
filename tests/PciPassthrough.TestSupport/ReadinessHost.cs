namespace PciPassthrough.TestSupport;

/// <summary>
/// The sample host with the host-level facts the readiness audit reads: the default route on the
/// I350 PF's interface, / on a SATA disk behind the ICH9 AHCI controller, LVM on the NVMe disk,
/// module aliases, and a libvirt qemu.conf whose device ACL is unset.
/// </summary>
public static class ReadinessHost
{
    public static FakeHost Create()
    {
        var host = SampleHost.Create().WithHealthyIntelIommu();
        host.WriteFile("proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\nenp2s0f0\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\nenp2s0f0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n");
        host.WriteFile("proc/net/ipv6_route", "fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 enp2s0f0\n");
        host.WriteFile("proc/mounts", "sysfs /sys sysfs rw 0 0\n/dev/sda1 / ext4 rw,relatime 0 0\n/dev/mapper/vg-data /srv/data xfs rw 0 0\ntmpfs /run tmpfs rw 0 0\n");
        host.WriteFile("proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
        host.Link("sys/class/block/sda", "../../devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda");
        host.Link("sys/class/block/sda1", "../../devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1");
        host.Link("sys/class/block/nvme0n1", "../../devices/pci0001:00/0001:00:00.0/nvme/nvme0/nvme0n1");
        host.Link("sys/class/block/nvme0n1p2", "../../devices/pci0001:00/0001:00:00.0/nvme/nvme0/nvme0n1/nvme0n1p2");
        host.Link("sys/class/block/dm-0", "../../devices/virtual/block/dm-0");
        Directory.CreateDirectory(Path.Combine(host.Root, "sys/devices/virtual/block/dm-0/slaves"));
        host.Link("sys/devices/virtual/block/dm-0/slaves/nvme0n1p2", "../../../../pci0001:00/0001:00:00.0/nvme/nvme0/nvme0n1/nvme0n1p2");
        host.Link("dev/mapper/vg-data", "../dm-0");
        host.WriteFile("proc/self/limits", "Limit                     Soft Limit           Hard Limit           Units\nMax locked memory         8388608              8388608              bytes\n");
        host.WriteFile($"lib/modules/{IommuHostFiles.Release}/modules.alias",
            "alias pci:v000010DEd*sv*sd*bc03sc*i* nvidia\nalias pci:v000010DEd*sv*sd*bc03sc*i* nouveau\nalias pci:v00008086d00001521sv*sd*bc*sc*i* igb\nalias pci:v00008086d00001520sv*sd*bc*sc*i* igbvf\nalias pci:v*d*sv*sd*bc01sc06i01* ahci\nalias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n");
        host.WriteFile("sys/bus/pci/devices/0000:01:00.0/modalias", "pci:v000010DEd00001EB8sv000010DEsd000012A2bc03sc02i00");
        host.WriteFile("sys/bus/pci/devices/0000:02:00.0/modalias", "pci:v00008086d00001521sv00008086sd00000001bc02sc00i00");
        host.WriteFile("sys/bus/pci/devices/0000:02:10.4/modalias", "pci:v00008086d00001520sv00000000sd00000000bc02sc00i00");
        host.WriteFile("etc/libvirt/qemu.conf", "# libvirt's qemu.conf\n#cgroup_device_acl = [\n#    \"/dev/null\", \"/dev/full\"\n#]\nuser = \"oneadmin\"\n");
        return host;
    }
}
