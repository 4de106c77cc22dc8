namespace PciPassthrough.Cmdlets.Tests;

public class ProbeCmdletTests(SampleHostSession session) : IClassFixture<SampleHostSession>
{
    private const string Fqid = ",PciPassthrough.PowerShell.Commands.InvokePciProbeCommand";

    private const string Vf = "PCI = [\n TYPE = \"8086:1520:0200\" ,\n VENDOR = \"8086\" ,\n VENDOR_NAME = \"Intel Corporation\" ,\n DEVICE = \"1520\" ,\n CLASS = \"0200\" ,\n CLASS_NAME = \"Ethernet controller\" ,\n ADDRESS = \"0000:02:10:4\" ,\n SHORT_ADDRESS = \"02:10.4\" ,\n DOMAIN = \"0000\" ,\n BUS = \"02\" ,\n SLOT = \"10\" ,\n FUNCTION = \"4\" ,\n NUMA_NODE = \"1\" ,\n IFNAME = \"-\" ,\n SRIOV = \"vf\" ,\n DEVICE_NAME = \"I350 Ethernet Controller Virtual Function\" \n]";

    [Fact]
    public void The_probe_writes_one_string_per_block()
    {
        var r = session.Run("Invoke-PciProbe -Root $root -Filter '8086:1520' -ShortAddress '02:10.4'");
        Assert.Null(r.TerminatingError);
        Assert.Equal([Vf], r.Output.Select(o => (string)o.BaseObject));
    }

    [Fact]
    public void Without_a_filter_it_reports_nothing_as_pci_rb_does()
    {
        var r = session.Run("Invoke-PciProbe -Root $root");
        Assert.Null(r.TerminatingError);
        Assert.Empty(r.Output);
    }

    [Fact]
    public void A_probe_filter_object_binds_from_the_pipeline_and_parameters_override_its_keys()
    {
        var r = session.Run("""
            $f = [PciPassthrough.OpenNebula.PciProbeFilter]::new([string[]]@('*:*'), [string[]]@('02:10.4', '03:00.0'), $null, $null)
            ($f | Invoke-PciProbe -Root $root).Count
            ($f | Invoke-PciProbe -Root $root -ShortAddress '02:10.4') -ceq $args[0]
            Invoke-PciProbe -Root $root -ProbeFilter $f -DeviceName 'nothing matches'
            """, Vf);
        Assert.Null(r.TerminatingError);
        Assert.Equal(["2", "True"], r.Output.Select(o => o.ToString()));
    }

    [Theory]
    [InlineData("-Root $root -Filter '10de'", "InvalidPciFilter")]
    [InlineData("-Root $root -Filter '*:*' -DeviceName '(['", "InvalidDeviceNamePattern")]
    [InlineData("-Filter '*:*' -Root /nonexistent/pcipt", "HostRootNotFound")]
    public void Bad_input_is_a_terminating_error(string parameters, string id)
    {
        var r = session.Run($"Invoke-PciProbe {parameters}");
        Assert.Equal(id + Fqid, r.TerminatingError?.FullyQualifiedErrorId);
        Assert.NotNull(r.TerminatingError!.ErrorDetails?.RecommendedAction);
    }

    [Fact]
    public void The_probe_script_ships_with_the_module_reads_pci_conf_and_prints_the_exact_bytes()
    {
        var script = Path.Combine(Path.GetDirectoryName(RepoPaths.ModuleManifest)!, "pci.ps1");
        Assert.True(File.Exists(script), script);
        Assert.StartsWith("#!/usr/bin/env pwsh\n", File.ReadAllText(script));
        var captured = new StringWriter();
        var previous = Console.Out;
        Console.SetOut(captured);
        try
        {
            session.Host.WriteFile("var/lib/one/remotes/etc/im/kvm-probes.d/pci.conf", ":filter: '8086:1520'\n:short_address:\n  - '02:10.4'\n");
            var r = session.Run("& $args[0] -Root $root -ConfigurationPath ($root + '/var/lib/one/remotes/etc/im/kvm-probes.d/pci.conf')", script);
            Assert.Null(r.TerminatingError);
        }
        finally
        {
            Console.SetOut(previous);
        }

        Assert.Equal(Vf + "\n", captured.ToString());
    }
}

public class ProbeConfigurationTests(SampleHostSession session) : IClassFixture<SampleHostSession>
{
    [Fact]
    public void Invoke_PciProbe_reads_its_filter_from_pci_conf_and_parameters_override_keys()
    {
        var conf = session.Host.WriteFile("probe-" + Guid.NewGuid().ToString("N") + ".conf", ":filter: '8086:1520'\n:device_name: ['virtual']\n");
        var fromFile = session.Run("Invoke-PciProbe -Root $root -ConfigurationPath $args[0]", conf);
        Assert.Null(fromFile.TerminatingError);
        Assert.Equal(2, fromFile.Output.Count);
        Assert.All(fromFile.Output, b => Assert.Contains("DEVICE = \"1520\"", b.ToString()));
        var overridden = session.Run("Invoke-PciProbe -Root $root -ConfigurationPath $args[0] -ShortAddress '02:10.4'", conf);
        Assert.Contains("SHORT_ADDRESS = \"02:10.4\"", Assert.Single(overridden.Output).ToString());
        var missing = session.Run("Invoke-PciProbe -Root $root -ConfigurationPath ($root + '/none.conf')");
        Assert.StartsWith("ProbeFilterFileUnreadable,", missing.TerminatingError?.FullyQualifiedErrorId);
        Assert.StartsWith("Invalid configuration ", missing.TerminatingError!.Exception.Message);
    }
}
