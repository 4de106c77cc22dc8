namespace PciPassthrough.Cmdlets.Tests;

public class TemplateSectionCmdletTests(SampleHostSession session) : IClassFixture<SampleHostSession>
{
    private const string NewFqid = ",PciPassthrough.PowerShell.Commands.NewPciTemplateSectionCommand";
    private const string ConvertFqid = ",PciPassthrough.PowerShell.Commands.ConvertFromPciTemplateSectionCommand";

    private static List<string> Texts(ScriptResult r) => r.Output.Select(o => o.ToString()).ToList();

    [Fact]
    public void Parameters_give_each_kind_of_section()
    {
        var r = session.Run("""
            New-PciTemplateSection -VendorId 8086 -DeviceId 0A0C -Class 0403
            New-PciTemplateSection -Class 0604
            New-PciTemplateSection -ShortAddress 00:03.0
            New-PciTemplateSection -Network passthrough -NetworkUname oneadmin -Class 0200 -DeviceId 10d3 -VendorId 8086 -Trust YES -SpoofCheck NO -Mac 02:00:c0:a8:01:05 -VlanId 7 -Ip 192.168.1.5 -Ip6 2001:db8::5
            """);
        Assert.Null(r.TerminatingError);
        Assert.Equal(
            [
                "PCI = [ VENDOR = \"8086\", DEVICE = \"0a0c\", CLASS = \"0403\" ]",
                "PCI = [ CLASS = \"0604\" ]",
                "PCI = [ SHORT_ADDRESS = \"00:03.0\" ]",
                "PCI = [ NETWORK = \"passthrough\", NETWORK_UNAME = \"oneadmin\", TYPE = \"NIC\", VENDOR = \"8086\", DEVICE = \"10d3\", CLASS = \"0200\", MAC = \"02:00:c0:a8:01:05\", VLAN_ID = \"7\", SPOOFCHK = \"NO\", TRUST = \"YES\", IP = \"192.168.1.5\", IPV6 = \"2001:db8::5\" ]",
            ],
            Texts(r));
        Assert.Equal("PciPassthrough.OpenNebula.Templates.PciTemplateSection", r.Output[0].TypeNames[0]);
    }

    [Fact]
    public void Piped_devices_become_sections_in_pipeline_order_by_the_chosen_identifiers()
    {
        var r = session.Run("""
            Get-PciDevice -Root $root -Address 0000:02:10.4, 0000:01:00.0, 0001:00:00.0 | New-PciTemplateSection
            Get-PciDevice -Root $root -Address 0000:02:10.4, 0001:00:00.0 | New-PciTemplateSection -By ShortAddress
            Get-PciDevice -Root $root -Address 0000:01:00.0 | New-PciTemplateSection -By VendorDevice
            Get-PciDevice -Root $root -Address 0000:01:00.0 | New-PciTemplateSection -By Class
            """);
        Assert.Null(r.TerminatingError);
        Assert.Empty(r.Errors);
        Assert.Equal(
            [
                "PCI = [ VENDOR = \"8086\", DEVICE = \"1520\", CLASS = \"0200\" ]",
                "PCI = [ VENDOR = \"10de\", DEVICE = \"1eb8\", CLASS = \"0302\" ]",
                "PCI = [ VENDOR = \"144d\", DEVICE = \"a808\", CLASS = \"0108\" ]",
                "PCI = [ SHORT_ADDRESS = \"02:10.4\" ]",
                "PCI = [ SHORT_ADDRESS = \"0001:00:00.0\" ]",
                "PCI = [ VENDOR = \"10de\", DEVICE = \"1eb8\" ]",
                "PCI = [ CLASS = \"0302\" ]",
            ],
            Texts(r));
    }

    [Fact]
    public void Deserialized_devices_bind_by_property_name_as_live_ones_do()
    {
        var r = session.Run("""
            $wire = [System.Management.Automation.PSSerializer]::Serialize((Get-PciDevice -Root $root -Address 0000:02:10.0, 0000:02:10.4))
            $back = [System.Management.Automation.PSSerializer]::Deserialize($wire)
            $back | New-PciTemplateSection -Network sriov -By ShortAddress
            """);
        Assert.Null(r.TerminatingError);
        Assert.Equal(
            ["PCI = [ NETWORK = \"sriov\", TYPE = \"NIC\", SHORT_ADDRESS = \"02:10.0\" ]", "PCI = [ NETWORK = \"sriov\", TYPE = \"NIC\", SHORT_ADDRESS = \"02:10.4\" ]"],
            Texts(r));
    }

    [Theory]
    [InlineData("-ShortAddress 04:00.0 -VendorId 10de", "SHORT_ADDRESS cannot be set with DEVICE, VENDOR or CLASS")]
    [InlineData("-Network net", "SHORT_ADDRESS, DEVICE, VENDOR or CLASS must be defined for PCI.")]
    [InlineData("-VendorId 10deX", "Wrong Hex value for PCI attribute VENDOR")]
    [InlineData("-Class 0200 -Mac 02:00:00:00:00:01", "MAC is a NIC attribute, but this PCI section is not a NIC (TYPE = \"NIC\").")]
    public void Bad_parameters_are_terminating_errors_with_opennebulas_messages(string parameters, string message)
    {
        var r = session.Run($"New-PciTemplateSection {parameters}");
        Assert.NotNull(r.TerminatingError);
        Assert.Equal("InvalidPciTemplateSection" + NewFqid, r.TerminatingError!.FullyQualifiedErrorId);
        Assert.Equal(message, r.TerminatingError.Exception.Message);
        Assert.NotNull(r.TerminatingError.ErrorDetails?.RecommendedAction);
    }

    [Fact]
    public void A_bad_piped_device_is_reported_and_the_rest_still_comes()
    {
        var r = session.Run("""
            [pscustomobject]@{ VendorId = '10de'; DeviceId = '1eb8' }, [pscustomobject]@{ VendorId = 'zz' }, [pscustomobject]@{ Class = '0300' } |
                New-PciTemplateSection -ErrorAction Continue
            """);
        Assert.Null(r.TerminatingError);
        Assert.Equal(["PCI = [ VENDOR = \"10de\", DEVICE = \"1eb8\" ]", "PCI = [ CLASS = \"0300\" ]"], Texts(r));
        Assert.Equal("InvalidPciTemplateSection" + NewFqid, Assert.Single(r.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void Render_then_convert_back_is_the_identity_through_the_cmdlets()
    {
        var r = session.Run("""
            $sections = @(
                Get-PciDevice -Root $root -Filter '*:*:03xx' | New-PciTemplateSection
                New-PciTemplateSection -Network passthrough -Class 0200 -Trust NO -VlanId 0
                New-PciTemplateSection -ShortAddress 0001:00:00.0
            )
            $back = ConvertFrom-PciTemplateSection -Template ($sections -join "`n")
            $back.Count
            for ($i = 0; $i -lt $sections.Count; $i++) { $sections[$i].ToString() -ceq $back[$i].ToString() }
            $back[2].Type; $back[2].Network; $back[2].Trust; $back[2].VlanId; $back[3].ShortAddress
            """);
        Assert.Null(r.TerminatingError);
        Assert.Equal(["4", "True", "True", "True", "True", "NIC", "passthrough", "NO", "0", "0001:00:00.0"], Texts(r));
    }

    [Fact]
    public void A_template_file_and_piped_lines_read_the_same()
    {
        var path = session.Host.WriteFile("vm.tmpl", "NAME = vm\nPCI = [ VENDOR = \"10de\",\n  DEVICE = \"1eb8\" ]\nPCI = [ CLASS = \"0300\" ]\n");
        var r = session.Run("$p = $args[0]; ConvertFrom-PciTemplateSection -Path $p; [System.IO.File]::ReadAllLines($p) | ConvertFrom-PciTemplateSection", path);
        Assert.Null(r.TerminatingError);
        Assert.Equal(["PCI = [ VENDOR = \"10de\", DEVICE = \"1eb8\" ]", "PCI = [ CLASS = \"0300\" ]", "PCI = [ VENDOR = \"10de\", DEVICE = \"1eb8\" ]", "PCI = [ CLASS = \"0300\" ]"], Texts(r));
    }

    [Theory]
    [InlineData("ConvertFrom-PciTemplateSection -Template 'PCI = [ CLASS = \"0300\"'", "PciTemplateSyntaxError", "template, line 1, column 7: '[' is never closed with ']'.")]
    [InlineData("ConvertFrom-PciTemplateSection -Template 'PCI = [ CLASS = \"030g\" ]'", "InvalidPciTemplateSection", "PCI section at line 1, column 1: Wrong Hex value for PCI attribute CLASS")]
    [InlineData("ConvertFrom-PciTemplateSection -Template ('#' * 1048577)", "PciTemplateSyntaxError", "template is 1048577 characters long; the limit is 1048576 (at line 1, column 1).")]
    public void Malformed_templates_are_terminating_errors_with_the_position(string script, string id, string message)
    {
        var r = session.Run(script);
        Assert.NotNull(r.TerminatingError);
        Assert.Equal(id + ConvertFqid, r.TerminatingError!.FullyQualifiedErrorId);
        Assert.Equal(message, r.TerminatingError.Exception.Message);
    }

    [Fact]
    public void A_missing_file_is_not_found()
    {
        var r = session.Run("ConvertFrom-PciTemplateSection -Path \"$root/nope.tmpl\"");
        Assert.Equal("PciTemplateUnreadable" + ConvertFqid, r.TerminatingError?.FullyQualifiedErrorId);
        Assert.Equal(System.Management.Automation.ErrorCategory.ObjectNotFound, r.TerminatingError!.CategoryInfo.Category);
    }

    [Fact]
    public void A_section_opennebula_accepts_converts_with_every_attribute_in_order()
    {
        var r = session.Run("""
            $s = ConvertFrom-PciTemplateSection -Template 'PCI = [ DEVICE="165f", VM_BUS="0x06" ]'
            $s.ToString(); $s.DeviceId; $s.VmBus
            $t = ConvertFrom-PciTemplateSection -Template 'PCI = [ CLASS = "0302", ADDRESS = "0000:41:00:0", IOMMUFD = "YES", ACPI_NODES = "0-1", ROOT = "dedicated", PROFILE = "nvidia-558" ]'
            $t.ToString(); $t.RemovedAttributes; $t.UsesIommufd; $t.IsDedicatedRoot; $t.Attribute('profile')
            """);
        Assert.Null(r.TerminatingError);
        Assert.Equal(
            [
                "PCI = [ DEVICE = \"165f\", VM_BUS = \"0x06\" ]", "165f", "0x06",
                "PCI = [ CLASS = \"0302\", IOMMUFD = \"YES\", ACPI_NODES = \"0-1\", ROOT = \"dedicated\", PROFILE = \"nvidia-558\" ]", "ADDRESS", "True", "True", "nvidia-558",
            ],
            Texts(r));
    }

    [Theory]
    [InlineData("PCI = [ CLASS = \"0300\", VM_BUS = \"zz\" ]", "PCI section at line 1, column 1: Wrong VM_BUS in PCI attribute")]
    [InlineData("NAME = vm\nPCI = [ CLASS = \"0300\", ROOT = \"x\" ]", "PCI section at line 2, column 1: Unknown PCI root mode, has to be SHARED or DEDICATED")]
    [InlineData("PCI = [ CLASS = \"0300\", ACPI_NODES = \"1-\" ]", "PCI section at line 1, column 1: Invalid nodeset specification in ACPI_NODES")]
    public void Opennebulas_other_checks_are_terminating_errors_with_its_messages(string template, string message)
    {
        var r = session.Run("ConvertFrom-PciTemplateSection -Template $args[0]", template);
        Assert.Equal("InvalidPciTemplateSection" + ConvertFqid, r.TerminatingError?.FullyQualifiedErrorId);
        Assert.Equal(message, r.TerminatingError!.Exception.Message);
    }
}
