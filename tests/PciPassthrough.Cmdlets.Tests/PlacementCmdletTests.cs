namespace PciPassthrough.Cmdlets.Tests;

public class PlacementCmdletTests(SampleHostSession session) : IClassFixture<SampleHostSession>
{
    private const string ImportFqid = ",PciPassthrough.PowerShell.Commands.ImportPciHostInventoryCommand";

    private static List<string> Texts(ScriptResult r) => r.Output.Select(o => o.ToString()).ToList();

    [Fact]
    public void Onehost_xml_hosts_get_placements_with_opennebulas_message()
    {
        var r = session.Run("""
            $hosts = $args[0] | Import-PciHostInventory
            $hosts | ForEach-Object { "$($_.HostName)=$($_.HostId)=$($_.Devices.Count)" }
            $vm = @(New-PciTemplateSection -Class 0302; New-PciTemplateSection -VendorId 8086)
            $p = $hosts | Find-PciPlacement -Section $vm
            $p | ForEach-Object { "$($_.HostName) $($_.CanHost) $($_.Message) $($_.FailedRequest) $(($_.Assignments | ForEach-Object { $_.Device.ShortAddress }) -join ',')" }
            ($hosts | Find-PciPlacement -Section $vm -Available).HostName
            ($hosts[0] | Find-PciPlacement -Section (New-PciTemplateSection -Class 0302) -PreferNumaNode 1).Assignments[0].PciAddress
            """, OneHostXml.Pool);
        Assert.Null(r.TerminatingError);
        Assert.Equal(
            ["hv1=0=4", "hv2=3=2", "empty=4=0", "hv1 True   01:00.0,02:10.4", "hv2 False Unavailable PCI device. 0 ", "empty False Unavailable PCI device. 0 ", "hv1", "0000:41:00.0"],
            Texts(r));
    }

    [Fact]
    public void Live_and_deserialized_devices_group_into_hosts_by_computer_name()
    {
        var r = session.Run("""
            $a = Get-PciDevice -Root $root -Filter '8086:1520'
            $wire = [System.Management.Automation.PSSerializer]::Serialize(@($a))
            $remote = [System.Management.Automation.PSSerializer]::Deserialize($wire) | ForEach-Object { $_.PSObject.Properties.Add([psnoteproperty]::new('PSComputerName', 'hv9')); $_ }
            $hosts = @($a) + @($remote) | Import-PciHostInventory
            $hosts | ForEach-Object { "$($_.HostName):$(($_.Devices | ForEach-Object { "$($_.ShortAddress)/$($_.VmId)/$($_.NumaNode)" }) -join ',')" }
            ($hosts | Find-PciPlacement -Section (New-PciTemplateSection -DeviceId 1520 -Network sriov)).CanHost
            """);
        Assert.Null(r.TerminatingError);
        Assert.Empty(r.Errors);
        Assert.Equal(["localhost:02:10.0/-1/1,02:10.4/-1/1", "hv9:02:10.0/-1/1,02:10.4/-1/1", "True", "True"], Texts(r));
    }

    [Fact]
    public void Assignments_and_devices_pipe_into_hostdev_xml()
    {
        var r = session.Run("""
            $hosts = Import-PciHostInventory -Xml $args[0]
            ($hosts[1] | Find-PciPlacement -Section (New-PciTemplateSection -ShortAddress 0001:00:00.0)).Assignments | ConvertTo-PciHostdevXml
            Get-PciDevice -Root $root -Address 02:10.4 | ConvertTo-PciHostdevXml
            ConvertTo-PciHostdevXml -Uuid e4042b96-e63d-56cf-bcc8-4e6eecccc12e
            """, OneHostXml.Pool);
        Assert.Null(r.TerminatingError);
        Assert.Equal(
            [
                "<hostdev mode='subsystem' type='pci' managed='yes'>\n  <source>\n    <address domain='0x0001' bus='0x00' slot='0x00' function='0x0'/>\n  </source>\n  <address type='pci' domain='0x0000' bus='0x01' slot='0x01' function='0'/>\n</hostdev>",
                "<hostdev mode='subsystem' type='pci' managed='yes'>\n  <source>\n    <address domain='0x0000' bus='0x02' slot='0x10' function='0x4'/>\n  </source>\n</hostdev>",
                "<hostdev mode='subsystem' type='mdev' model='vfio-pci'>\n  <source>\n    <address uuid='e4042b96-e63d-56cf-bcc8-4e6eecccc12e'/>\n  </source>\n</hostdev>",
            ],
            Texts(r));
    }

    [Theory]
    [InlineData("Import-PciHostInventory -Xml '<HOST_POOL>'", "InvalidPciHostInventory")]
    [InlineData("Import-PciHostInventory -Path \"$root/none.xml\"", "PciHostInventoryUnreadable")]
    [InlineData("ConvertTo-PciHostdevXml -Address 'zz:00.0'", "InvalidPciAddress")]
    public void Bad_input_is_a_terminating_error(string script, string id)
    {
        var r = session.Run(script);
        Assert.NotNull(r.TerminatingError);
        Assert.StartsWith(id + ",", r.TerminatingError!.FullyQualifiedErrorId);
        Assert.NotNull(r.TerminatingError.ErrorDetails?.RecommendedAction);
    }

    [Fact]
    public void A_device_object_without_ids_is_reported_and_the_rest_imports()
    {
        var r = session.Run("""
            [pscustomobject]@{ Address = '0000:01:00.0'; VendorId = '10de'; DeviceId = '1eb8'; Class = '0302' }, [pscustomobject]@{ Address = '0000:02:00.0' } |
                Import-PciHostInventory -HostName hvX -ErrorAction Continue | ForEach-Object { "$($_.HostName) $($_.Devices.Count)" }
            """);
        Assert.Null(r.TerminatingError);
        Assert.Equal(["hvX 1"], Texts(r));
        Assert.Equal("InvalidPciHostInventory" + ImportFqid, Assert.Single(r.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void Assignments_carry_opennebulas_guest_addresses_for_pc_q35_and_numa_pinning()
    {
        // By hand from set_pci_address: PCI_ID in section order (the NIC section counts), VM_SLOT = PCI_ID + 1;
        // q35: VM_BUS = PCI_ID + 1, VM_SLOT 0 printed 0000. Pinned: 41:00.0 (node 1) takes port 3 + 9 + 1 = 13,
        // bus 0x31; 02:10.4 has no NUMA node, so stays flat. The driver's controllers for one guest node:
        // pcie-root, root port 1, bridge 2, expander 3 and its 8 root ports.
        var r = session.Run("""
            $hosts = Import-PciHostInventory -Xml $args[0]
            $vm = ConvertFrom-PciTemplateSection -Template "PCI = [ TYPE = ""NIC"", NETWORK = ""sriov"", DEVICE = ""1520"" ]`nPCI = [ CLASS = ""0302"", VM_BUS = ""0x06"" ]"
            ($hosts[0] | Find-PciPlacement -Section $vm).Assignments | ForEach-Object { "$($_.PciId) $($_.VmDomain) $($_.VmBus) $($_.VmSlot) $($_.VmFunction) $($_.VmAddress) [$($_.VmBusIndex)]" }
            ($hosts[0] | Find-PciPlacement -Section $vm -PciPassthroughBus 0x03).Assignments[0].VmAddress
            ($hosts[0] | Find-PciPlacement -Section $vm -Machine q35).Assignments | ForEach-Object { "$($_.PciId) [$($_.VmBus)] [$($_.VmSlot)] [$($_.VmAddress)] [$($_.VmBusIndex)]" }
            $n = $hosts[0] | Find-PciPlacement -Section $vm -Machine q35 -NumaNode 1
            $n.Assignments | ForEach-Object { "$($_.Device.ShortAddress) [$($_.VmBusIndex)] [$($_.VmAddress)] [$($_.VmNumaNode)]" }
            "$($n.Controllers.Count) $(($n.Controllers | Where-Object Model -EQ 'pcie-expander-bus').Index)"
            """, OneHostXml.Pool);
        Assert.Null(r.TerminatingError);
        Assert.Equal(
            [
                "0 0x0000 0x01 0x01 0 01:01.0 []", "1 0x0000 0x06 0x02 0 06:02.0 []",
                "03:01.0",
                "0 [0x01] [0000] [01:00.0] []", "1 [0x02] [0000] [02:00.0] []",
                "02:10.4 [] [01:00.0] []", "41:00.0 [13] [31:00.0] [1]",
                "12 3",
            ],
            Texts(r));
    }

    [Fact]
    public void A_bad_passthrough_bus_is_a_terminating_error()
    {
        var r = session.Run("Import-PciHostInventory -Xml $args[0] | Find-PciPlacement -Section (New-PciTemplateSection -Class 0302) -PciPassthroughBus zz", OneHostXml.Pool);
        Assert.Equal("InvalidPciPlacementOptions,PciPassthrough.PowerShell.Commands.FindPciPlacementCommand", r.TerminatingError?.FullyQualifiedErrorId);
    }

    [Fact]
    public void Piped_assignments_and_sections_give_the_kvm_drivers_hostdev()
    {
        var r = session.Run("""
            $hosts = Import-PciHostInventory -Xml $args[0]
            $vm = ConvertFrom-PciTemplateSection -Template 'PCI = [ CLASS = "0302", IOMMUFD = "YES", ACPI_NODES = "0" ]'
            ($hosts[0] | Find-PciPlacement -Section $vm).Assignments | ConvertTo-PciHostdevXml
            ConvertFrom-PciTemplateSection -Template 'PCI = [ SHORT_ADDRESS = "02:10.4", IOMMUFD = "yes" ]' | ConvertTo-PciHostdevXml
            """, OneHostXml.Pool);
        Assert.Null(r.TerminatingError);
        Assert.Equal(
            [
                "<hostdev mode='subsystem' type='pci' managed='yes'>\n  <source>\n    <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n  </source>\n  <driver iommufd='yes'/>\n  <acpi nodeset='0'/>\n  <address type='pci' domain='0x0000' bus='0x01' slot='0x01' function='0'/>\n</hostdev>",
                "<hostdev mode='subsystem' type='pci' managed='yes'>\n  <source>\n    <address domain='0x0000' bus='0x02' slot='0x10' function='0x4'/>\n  </source>\n  <driver iommufd='yes'/>\n</hostdev>",
            ],
            Texts(r));
    }

    [Fact]
    public void The_cluster_filter_and_gpu_profile_apply_to_xml_and_live_inventories()
    {
        var r = session.Run("""
            $hosts = Import-PciHostInventory -Xml $args[0] -PciFilter '10de:*' -PciShortAddress '41:00.0,0001:00:00.0' -PciGpuProfile nvidia-558
            $hosts | ForEach-Object { "$($_.HostName):$(($_.Devices | ForEach-Object ShortAddress) -join ',') $($_.GpuProfile)" }
            ($hosts[0] | Find-PciPlacement -Section (New-PciTemplateSection -Class 0302)).Assignments[0].Profile
            (Get-PciDevice -Root $root | Import-PciHostInventory -PciFilter '8086:1520' -PciShortAddress '02:10.4').Devices.ShortAddress
            """, OneHostXml.Pool);
        Assert.Null(r.TerminatingError);
        Assert.Equal(["hv1:41:00.0 nvidia-558", "hv2: nvidia-558", "empty: nvidia-558", "nvidia-558", "02:10.4"], Texts(r));
    }
}
