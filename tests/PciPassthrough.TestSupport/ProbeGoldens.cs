namespace PciPassthrough.TestSupport;

/// <summary>
/// Probe output written by hand from pci.rb's rules (opennebula.md §2) for SampleHost's unknown device
/// and its device in domain 0001, shared by the core's probe tests and the native probe's tests.
/// </summary>
public static class ProbeGoldens
{
    public const string UnknownAndOtherDomain = """
        PCI = [
         TYPE = "abab:7777:ff00" ,
         VENDOR = "abab" ,
         VENDOR_NAME = "Vendor" ,
         DEVICE = "7777" ,
         CLASS = "ff00" ,
         CLASS_NAME = "Unassigned class" ,
         ADDRESS = "0000:04:00:0" ,
         SHORT_ADDRESS = "04:00.0" ,
         DOMAIN = "0000" ,
         BUS = "04" ,
         SLOT = "00" ,
         FUNCTION = "0" ,
         NUMA_NODE = "-" ,
         IFNAME = "-" ,
         SRIOV = "no" ,
         DEVICE_NAME = "Device" 
        ]
        PCI = [
         TYPE = "144d:a808:0108" ,
         VENDOR = "144d" ,
         VENDOR_NAME = "Samsung Electronics Co Ltd" ,
         DEVICE = "a808" ,
         CLASS = "0108" ,
         CLASS_NAME = "Non-Volatile memory controller" ,
         ADDRESS = "0001:00:00:0" ,
         SHORT_ADDRESS = "0001:00:00.0" ,
         DOMAIN = "0001" ,
         BUS = "00" ,
         SLOT = "00" ,
         FUNCTION = "0" ,
         NUMA_NODE = "0" ,
         IFNAME = "-" ,
         SRIOV = "no" ,
         DEVICE_NAME = "NVMe SSD Controller SM981/PM981/PM983" 
        ]

        """;
}
