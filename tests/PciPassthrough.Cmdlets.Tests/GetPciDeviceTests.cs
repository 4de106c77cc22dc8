namespace PciPassthrough.Cmdlets.Tests;

public class GetPciDeviceTests(SampleHostSession session) : IClassFixture<SampleHostSession>
{
    private const string Fqid = ",PciPassthrough.PowerShell.Commands.GetPciDeviceCommand";

    private static List<string> Addresses(ScriptResult r) => r.Values("PciAddress").Select(v => (string)v!).ToList();

    [Fact]
    public void Devices_come_out_as_typed_objects_with_the_contract_properties()
    {
        var r = session.Run("Get-PciDevice -Root $root -Address 0000:02:00.0");
        Assert.Null(r.TerminatingError);
        var d = Assert.Single(r.Output);
        Assert.Equal("PciPassthrough.PciDevice", d.TypeNames[0]);
        var expected = new Dictionary<string, object?>
        {
            ["PciAddress"] = "0000:02:00.0", ["ShortAddress"] = "02:00.0", ["Domain"] = "0000", ["Bus"] = "02", ["Slot"] = "00", ["Function"] = "0",
            ["VendorId"] = "8086", ["DeviceId"] = "1521", ["SubsystemVendorId"] = "8086", ["SubsystemId"] = "0001", ["Revision"] = "01",
            ["ClassCode"] = "020000", ["Class"] = "0200", ["ProgIf"] = "00", ["Type"] = "8086:1521:0200",
            ["VendorName"] = "Intel Corporation", ["DeviceName"] = "I350 Gigabit Network Connection", ["ClassName"] = "Ethernet controller",
            ["SubsystemName"] = "Ethernet Server Adapter I350-T4", ["Driver"] = "igb", ["DriverOverride"] = null, ["IommuGroup"] = 7,
            ["NumaNode"] = 1, ["LocalCpuList"] = "8-15", ["IsBridge"] = false, ["IsEndpoint"] = true, ["TotalVfs"] = 7, ["NumVfs"] = 2,
            ["PhysicalFunction"] = null, ["BootVga"] = false,
        };
        foreach (var (name, value) in expected)
        {
            Assert.True(value is null ? d.Properties[name].Value is null : value.Equals(d.Properties[name].Value), $"{name}: {d.Properties[name].Value}");
        }

        Assert.Equal("PF", d.Properties["SriovRole"].Value.ToString());
        Assert.Equal(["0000:02:10.0", "0000:02:10.4"], (string[])d.Properties["VirtualFunctions"].Value);
        Assert.Equal(["enp2s0f0"], (string[])d.Properties["NetworkInterfaces"].Value);
    }

    [Theory]
    [InlineData("-Filter '8086:1520'", "0000:02:10.0,0000:02:10.4")]
    [InlineData("-Filter '10de:*','*:*:0300'", "0000:01:00.0,0000:03:00.0")]
    [InlineData("-Filter '10de:*,*:*:0300'", "0000:01:00.0,0000:03:00.0")]
    [InlineData("-Filter '0:0'", "")]
    [InlineData("-ShortAddress '00:00.0'", "0000:00:00.0")]
    [InlineData("-ShortAddress '0001:00:00.0'", "0001:00:00.0")]
    [InlineData("-DeviceName 'i350.*VIRTUAL'", "0000:02:10.0,0000:02:10.4")]
    [InlineData("-DeviceName 'T4\\]$','^QEMU'", "0000:01:00.0,0000:03:00.0")]
    [InlineData("-Address '0000:00:1f.*'", "0000:00:1f.0,0000:00:1f.2,0000:00:1f.3")]
    [InlineData("-Address '02:1?.[0-3]'", "0000:02:10.0")]
    [InlineData("-Address '0?:00.0'", "0000:00:00.0,0000:01:00.0,0000:02:00.0,0000:03:00.0,0000:04:00.0")]
    [InlineData("-Address '0001:*'", "0001:00:00.0")]
    [InlineData("-Address '04:00.0'", "0000:04:00.0")]
    [InlineData("-Class '03xx'", "0000:01:00.0,0000:03:00.0")]
    [InlineData("-Class '0106'", "0000:00:1f.2")]
    [InlineData("-Class '06*'", "0000:00:00.0,0000:00:01.0,0000:00:1f.0")]
    [InlineData("-Class '010802'", "0001:00:00.0")]
    [InlineData("-Driver 'vfio*'", "0000:02:10.4")]
    [InlineData("-Driver 'IGB','nvme'", "0000:02:00.0,0001:00:00.0")]
    [InlineData("-IommuGroup 5", "0000:00:1f.0,0000:00:1f.2,0000:00:1f.3")]
    [InlineData("-Filter '8086:*' -DeviceName 'ich9' -Driver ahci", "0000:00:1f.2")]
    [InlineData("-Filter '8086:*' -ShortAddress '02:10.4','02:00.0' -DeviceName 'function'", "0000:02:10.4")]
    public void Filters_compose(string parameters, string expected)
    {
        var r = session.Run($"Get-PciDevice -Root $root {parameters}");
        Assert.Null(r.TerminatingError);
        Assert.Empty(r.Errors);
        Assert.Equal(expected.Split(',', StringSplitOptions.RemoveEmptyEntries), Addresses(r));
    }

    [Fact]
    public void An_exact_address_that_matches_nothing_is_a_non_terminating_error_and_the_rest_still_comes()
    {
        var r = session.Run("Get-PciDevice -Root $root -Address 0000:02:00.0,0000:09:00.0 -ErrorAction Continue");
        Assert.Null(r.TerminatingError);
        Assert.Equal(["0000:02:00.0"], Addresses(r));
        var e = Assert.Single(r.Errors);
        Assert.Equal("PciDeviceNotFound" + Fqid, e.FullyQualifiedErrorId);
        Assert.Equal("0000:09:00.0", e.TargetObject);
        Assert.Equal(System.Management.Automation.ErrorCategory.ObjectNotFound, e.CategoryInfo.Category);
        Assert.NotNull(e.ErrorDetails?.RecommendedAction);
    }

    [Fact]
    public void A_wildcard_that_matches_nothing_is_not_an_error()
    {
        var r = session.Run("Get-PciDevice -Root $root -Address '0000:9*'");
        Assert.Null(r.TerminatingError);
        Assert.Empty(r.Errors);
        Assert.Empty(r.Output);
    }

    [Theory]
    [InlineData("-Address '0000:04:20.0'", "InvalidPciAddress", "0000:04:20.0")]
    [InlineData("-Address '../../0000:04:00.0'", "InvalidPciAddress", "../../0000:04:00.0")]
    [InlineData("-Address '0000:04:00.0/driver'", "InvalidPciAddress", "0000:04:00.0/driver")]
    [InlineData("-Address '0000:0*/..'", "InvalidPciAddress", "0000:0*/..")]
    [InlineData("-Filter '10de'", "InvalidPciFilter", "10de")]
    [InlineData("-Filter '10de:*,zz:1'", "InvalidPciFilter", "zz:1")]
    [InlineData("-DeviceName 'T4['", "InvalidDeviceNamePattern", "T4[")]
    [InlineData("-Class 'display'", "InvalidPciClassPattern", "display")]
    [InlineData("-Class '02'", "InvalidPciClassPattern", "02")]
    [InlineData("-Driver 'e1000['", "InvalidDriverPattern", "e1000[")]
    public void Malformed_input_is_a_terminating_error_naming_the_bad_part(string parameters, string errorId, string target)
    {
        var r = session.Run($"Get-PciDevice -Root $root {parameters}");
        Assert.NotNull(r.TerminatingError);
        Assert.Equal(errorId + Fqid, r.TerminatingError!.FullyQualifiedErrorId);
        Assert.Equal(target, r.TerminatingError.TargetObject);
        Assert.Contains(target, r.TerminatingError.Exception.Message);
        Assert.Empty(r.Output);
    }

    [Theory]
    [InlineData("-Filter @()")]
    [InlineData("-ShortAddress @()")]
    [InlineData("-DeviceName @()")]
    [InlineData("-IommuGroup @()")]
    [InlineData("-Address @()")]
    public void An_empty_filter_list_is_refused_rather_than_meaning_every_device(string parameters)
    {
        var r = session.Run($"Get-PciDevice -Root $root {parameters}");
        Assert.StartsWith("ParameterArgumentValidationError", r.TerminatingError?.FullyQualifiedErrorId);
        Assert.Empty(r.Output);
    }

    [Fact]
    public void A_malformed_address_from_the_pipeline_is_reported_and_the_next_one_still_read()
    {
        var r = session.Run("'0000:01:00.0', 'zz', '02:00.0' | Get-PciDevice -Root $root -ErrorAction Continue");
        Assert.Null(r.TerminatingError);
        Assert.Equal(["0000:01:00.0", "0000:02:00.0"], Addresses(r));
        var e = Assert.Single(r.Errors);
        Assert.Equal("InvalidPciAddress" + Fqid, e.FullyQualifiedErrorId);
        Assert.Equal("zz", e.TargetObject);
    }

    [Fact]
    public void Piped_devices_are_read_once_and_the_warnings_said_once()
    {
        using var host = new FakeHost();
        host.Add(new FakeDevice("0000:05:00.0") { Uevent = false }).Add(new FakeDevice("0000:06:00.0"));
        File.WriteAllText(Path.Combine(host.DeviceDir("0000:05:00.0"), "class"), "junk");
        var r = session.Ps.Run("Get-PciDevice -Root $args[0] -WarningAction SilentlyContinue | Get-PciDevice -Address * -WarningAction Continue", host.Root);
        Assert.Equal(["0000:05:00.0", "0000:06:00.0", "0000:05:00.0", "0000:06:00.0"], Addresses(r));
        Assert.Single(r.Warnings, w => w.Contains("'class'"));
    }

    [Fact]
    public void A_root_that_does_not_exist_or_holds_no_pci_bus_is_a_clear_error()
    {
        var missing = session.Run("Get-PciDevice -Root ($root + '/nowhere')");
        Assert.Equal("HostRootNotFound" + Fqid, missing.TerminatingError?.FullyQualifiedErrorId);
        var empty = session.Run("Get-PciDevice -Root ($root + '/proc')");
        Assert.Equal("PciSysfsUnreadable" + Fqid, empty.TerminatingError?.FullyQualifiedErrorId);
        Assert.Contains("sys/bus/pci/devices", empty.TerminatingError!.ErrorDetails.RecommendedAction);
    }

    [Fact]
    public void An_explicit_pci_ids_file_that_cannot_be_read_is_an_error_not_a_fallback()
    {
        var r = session.Run("Get-PciDevice -Root $root -PciIdsPath ($root + '/no/pci.ids')");
        Assert.Equal("PciIdsUnreadable" + Fqid, r.TerminatingError?.FullyQualifiedErrorId);
    }

    [Fact]
    public void Devices_pipe_back_in_by_property_name_and_carry_their_root()
    {
        var r = session.Run("Get-PciDevice -Root $root -Filter '8086:1520' | Get-PciDevice");
        Assert.Null(r.TerminatingError);
        Assert.Equal(["0000:02:10.0", "0000:02:10.4"], Addresses(r));
        Assert.All(r.Values("Root"), root => Assert.Equal(session.Host.Root, root));
    }

    [Fact]
    public void Deserialized_devices_from_remoting_bind_by_property_name()
    {
        var r = session.Run("""
            $xml = [System.Management.Automation.PSSerializer]::Serialize((Get-PciDevice -Root $root -IommuGroup 5))
            $copies = [System.Management.Automation.PSSerializer]::Deserialize($xml)
            $copies[0].PSObject.TypeNames[0]
            $copies | Get-PciDevice | ForEach-Object PciAddress
            """);
        Assert.Null(r.TerminatingError);
        Assert.Equal(["Deserialized.PciPassthrough.PciDevice", "0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3"], r.Output.Select(o => o.BaseObject.ToString()));
    }

    [Fact]
    public void Strings_pipe_in_as_addresses()
    {
        var r = session.Run("'0000:00:1f.3', '01:00.0' | Get-PciDevice -Root $root");
        Assert.Equal(["0000:00:1f.3", "0000:01:00.0"], Addresses(r));
    }

    [Fact]
    public void In_use_details_survive_remoting_serialization_depth()
    {
        using var host = SampleHost.Create();
        host.WriteFile("dev/vfio/9", "");
        host.AddProcess(4242, "qemu-kvm-one", ["qemu", "-name", "guest=one-42"], "/dev/vfio/9");
        // PSSerializer.Serialize uses remoting's default depth of 1; the type's SerializationDepth must lift it.
        var r = session.Ps.Run("""
            $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize((Get-PciDevice -Root $args[0] -Address 0000:02:10.4)))
            $copy.InUse[0].VmId
            $copy.InUse[0].ProcessName
            """, host.Root);
        Assert.Null(r.TerminatingError);
        Assert.Equal([42, "qemu-kvm-one"], r.Output.Select(o => o.BaseObject));
    }

    [Fact]
    public void The_default_view_is_the_onehost_pci_table_for_live_and_deserialized_objects()
    {
        var live = session.Run("Get-PciDevice -Root $root -Address 0000:01:00.0,0001:00:00.0 | Out-Host").HostText;
        var lines = live.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^\s*VM ADDR\s+TYPE\s+DRIVER\s+IOMMU NAME\s*$", lines[0]);
        Assert.Matches(@"^\s+01:00\.0\s+10de:1eb8:0302 nvidia\s+6 TU104GL \[Tesla T4\]$", lines[2]);
        Assert.Matches(@"^\s+0001:00:00\.0 144d:a808:0108 nvme\s+11 NVMe SSD", lines[3]);

        var deserialized = session.Run("""
            $xml = [System.Management.Automation.PSSerializer]::Serialize((Get-PciDevice -Root $root -Address 0000:01:00.0,0001:00:00.0))
            [System.Management.Automation.PSSerializer]::Deserialize($xml) | Out-Host
            """).HostText;
        Assert.Equal(live, deserialized);
    }

    [Fact]
    public void The_vm_column_shows_the_opennebula_vm_holding_the_group()
    {
        using var host = SampleHost.Create();
        host.WriteFile("dev/vfio/9", "");
        host.AddProcess(4242, "qemu-kvm-one", ["qemu", "-name", "guest=one-42,debug-threads=on"], "/dev/vfio/9");

        var r = session.Ps.Run("Get-PciDevice -Root $args[0] -Address 0000:02:10.4 | Out-Host; (Get-PciDevice -Root $args[0] | Where-Object { $_.InUse }).PciAddress", host.Root);
        Assert.Matches(@"\n\s+42 02:10\.4\s+8086:1520:0200 vfio-pci\s+9 ", r.HostText);
        Assert.Equal(["0000:02:10.4"], r.Output.Select(o => o.BaseObject.ToString()));
    }

    [Fact]
    public void Garbage_in_the_tree_is_a_warning_never_an_exception()
    {
        using var host = new FakeHost();
        host.Add(new FakeDevice("0000:05:00.0") { Uevent = false });
        File.WriteAllText(Path.Combine(host.DeviceDir("0000:05:00.0"), "vendor"), "\u0001garbage");
        var r = session.Ps.Run("Get-PciDevice -Root $args[0] -WarningAction Continue", host.Root);
        Assert.Null(r.TerminatingError);
        Assert.Single(r.Output);
        Assert.Contains(r.Warnings, w => w.Contains("0000:05:00.0") && w.Contains("vendor"));
    }

    [Fact]
    public void The_address_completer_offers_the_hosts_devices_with_names()
    {
        var r = session.Run("(TabExpansion2 -inputScript ('Get-PciDevice -Root ' + $root + ' -Address 0000:02') -cursorColumn (35 + $root.Length)).CompletionMatches");
        Assert.Null(r.TerminatingError);
        Assert.Equal(["0000:02:00.0", "0000:02:10.0", "0000:02:10.4"], r.Values("CompletionText"));
        Assert.Contains("I350 Gigabit Network Connection", (string)r.Values("ToolTip")[0]!);
    }

    [Fact]
    public void The_manifest_exports_exactly_the_modules_cmdlets()
    {
        var module = session.Ps.Run("Get-Module PciPassthrough").Output.Single();
        var exported = ((System.Collections.IDictionary)module.Properties["ExportedCmdlets"].Value).Keys.Cast<string>().Order().ToList();
        var inAssembly = session.Ps.Run("Get-Command -Module PciPassthrough -CommandType Cmdlet | ForEach-Object Name").Output.Select(o => o.ToString()).Order().ToList();
        Assert.Equal(inAssembly, exported);
        Assert.Equal(["Clear-PciVgpuType", "ConvertFrom-PciTemplateSection", "ConvertTo-PciHostdevXml", "Enable-PciVgpuVirtualFunction", "Find-PciPlacement", "Get-IommuGroup", "Get-MediatedDevice", "Get-MediatedDeviceType", "Get-PciDevice", "Get-PciProbeFilter", "Get-PciTopology", "Get-PciVgpuType", "Get-PciVirtualFunction", "Get-VfioHostConfiguration", "Import-PciHostInventory", "Invoke-PciProbe", "New-MediatedDevice", "New-PciHostFilter", "New-PciTemplateSection", "Remove-MediatedDevice", "Remove-VfioBinding", "Reset-PciDevice", "Set-PciProbeFilter", "Set-PciResetMethod", "Set-PciVgpuType", "Set-PciVirtualFunction", "Set-PciVirtualFunctionCount", "Set-VfioBinding", "Set-VfioHostConfiguration", "Test-IommuSupport", "Test-MediatedDeviceConfiguration", "Test-PciAssignment", "Test-PciPassthroughReadiness", "Test-VfioHostConfiguration"], exported);
        Assert.Empty((System.Collections.IDictionary)module.Properties["ExportedFunctions"].Value);
        var manifest = File.ReadAllText(Path.Combine(RepoPaths.Root, "PciPassthrough.psd1"));
        Assert.Contains($"ModuleVersion        = '{module.Properties["Version"].Value}'", manifest);
    }
}
