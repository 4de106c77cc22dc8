namespace PciPassthrough.TestSupport;

/// <summary>Writes the host-level files the IOMMU checks read, healthy by default; tests then break one.</summary>
public static class IommuHostFiles
{
    public const string Release = "6.1.0-27-amd64";

    public static FakeHost WithHealthyIntelIommu(this FakeHost host, bool modulesLoaded = true)
    {
        host.WriteFile("proc/cpuinfo", "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)\nflags\t\t: fpu vme de pse msr pae vmx ept x2apic\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vmx\n");
        host.WriteFile("sys/firmware/acpi/tables/DMAR", "DMAR");
        host.WriteFile("sys/firmware/acpi/tables/APIC", "APIC");
        host.WriteFile("proc/sys/kernel/osrelease", Release + "\n");
        host.WriteFile("proc/cmdline", "BOOT_IMAGE=/vmlinuz-" + Release + " root=UUID=1234 ro quiet intel_iommu=on iommu=pt\n");
        Directory.CreateDirectory(Path.Combine(host.Root, "sys/class/iommu/dmar0"));
        Directory.CreateDirectory(Path.Combine(host.Root, "sys/kernel/iommu_groups/0/devices"));
        host.WriteFile("proc/interrupts", "           CPU0       CPU1\n  0:         34          0   IO-APIC    2-edge      timer\n 24:          0          0  IR-PCI-MSI 512000-edge      ahci[0000:00:1f.2]\n");
        host.WriteFile($"lib/modules/{Release}/modules.dep",
            "kernel/drivers/vfio/vfio.ko.xz: kernel/virt/lib/irqbypass.ko.xz\n" +
            "kernel/drivers/vfio/vfio_iommu_type1.ko.xz: kernel/drivers/vfio/vfio.ko.xz\n" +
            "kernel/drivers/vfio/pci/vfio-pci-core.ko.xz: kernel/drivers/vfio/vfio.ko.xz\n" +
            "kernel/drivers/vfio/pci/vfio-pci.ko.xz: kernel/drivers/vfio/pci/vfio-pci-core.ko.xz kernel/drivers/vfio/vfio.ko.xz\n" +
            "kernel/drivers/net/ethernet/intel/e1000/e1000.ko.xz:\n");
        host.WriteFile($"lib/modules/{Release}/modules.builtin", "kernel/drivers/pci/pcie/portdrv.ko\n");
        if (modulesLoaded)
        {
            foreach (var m in new[] { "vfio", "vfio_iommu_type1", "vfio_pci", "vfio_pci_core" })
            {
                Directory.CreateDirectory(Path.Combine(host.Root, "sys/module", m));
            }

            host.WriteFile("dev/vfio/vfio", "");
        }

        host.WriteFile("etc/passwd", "root:x:0:0:root:/root:/bin/bash\noneadmin:x:9869:9869::/var/lib/one:/bin/bash\n");
        host.WriteFile("etc/group", "root:x:0:\nkvm:x:104:oneadmin\n");
        return host;
    }
}
