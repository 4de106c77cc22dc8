using System.Runtime.Loader;

namespace PciPassthrough.Cmdlets.Tests;

public class ProbeFilterCmdletTests(SampleHostSession session) : IClassFixture<SampleHostSession>
{
    private const string DefaultPath = "var/lib/one/remotes/etc/im/kvm-probes.d/pci.conf";

    [Fact]
    public void The_filter_reads_from_opennebulas_path_under_the_root_with_defaults()
    {
        using var host = new FakeHost();
        host.WriteFile(DefaultPath, "# probe filter\n:filter: '10de:*'\n");
        var r = session.Ps.Run("Get-PciProbeFilter -Root $args[0]", host.Root);
        Assert.Null(r.TerminatingError);
        var f = Assert.Single(r.Output);
        Assert.Equal(["10de:*"], (string[])f.Properties["Filter"].Value);
        Assert.Empty((string[])f.Properties["ShortAddress"].Value);
        Assert.Empty((string[])f.Properties["DeviceName"].Value);
        Assert.Equal(["10de"], (string[])f.Properties["NvidiaVendors"].Value);
    }

    [Fact]
    public void A_missing_or_malformed_file_is_a_clear_error()
    {
        using var host = new FakeHost();
        var missing = session.Ps.Run("Get-PciProbeFilter -Root $args[0]", host.Root);
        Assert.Equal("ProbeFilterFileUnreadable,PciPassthrough.PowerShell.Commands.GetPciProbeFilterCommand", missing.TerminatingError?.FullyQualifiedErrorId);
        Assert.StartsWith("Invalid configuration ", missing.TerminatingError!.Exception.Message);
        var path = host.WriteFile("bad.conf", ":filter: [unclosed\n");
        var bad = session.Ps.Run("Get-PciProbeFilter -Path $args[0]", path);
        Assert.Equal("InvalidProbeFilterFile,PciPassthrough.PowerShell.Commands.GetPciProbeFilterCommand", bad.TerminatingError?.FullyQualifiedErrorId);
        Assert.Contains("line 2, column 1", bad.TerminatingError!.Exception.Message);
    }

    [Fact]
    public void Setting_changes_only_the_keys_given_keeps_the_rest_and_backs_up_the_file()
    {
        using var host = new FakeHost();
        var path = host.WriteFile(DefaultPath, "# keep this comment\n:filter: '0:0'\n:custom: 1\n:short_address: []\n");
        var r = session.Ps.Run("Set-PciProbeFilter -Root $args[0] -Filter '10de:*','8086:1520' -DeviceName 'T4' -Confirm:$false", host.Root);
        Assert.Null(r.TerminatingError);
        var change = Assert.Single(r.Output);
        Assert.Equal("Updated", change.Properties["Action"].Value.ToString());
        Assert.Contains("-:filter: '0:0'", (string)change.Properties["Diff"].Value);
        Assert.Contains("+  - '10de:*'", (string)change.Properties["Diff"].Value);
        Assert.Equal("# keep this comment\n:filter:\n  - '10de:*'\n  - '8086:1520'\n:custom: 1\n:short_address: []\n:device_name:\n  - 'T4'\n:nvidia_vendors:\n  - '10de'\n", File.ReadAllText(path));
        var backup = Directory.GetFiles(Path.GetDirectoryName(path)!, "pci.conf.*.pcipt.bak").Single();
        Assert.Equal("# keep this comment\n:filter: '0:0'\n:custom: 1\n:short_address: []\n", File.ReadAllText(backup));

        var again = session.Ps.Run("Set-PciProbeFilter -Root $args[0] -Filter '10de:*','8086:1520' -Confirm:$false", host.Root);
        Assert.Equal("Unchanged", again.Output.Single().Properties["Action"].Value.ToString());
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!, "pci.conf.*.pcipt.bak"));
        Assert.Equal("/var/lib/one/remotes/etc/im/kvm-probes.d/pci.conf", change.Properties["Path"].Value);

        // A second change in the same second keeps the first backup too.
        session.Ps.Run("Set-PciProbeFilter -Root $args[0] -Filter '*:*' -Confirm:$false; Set-PciProbeFilter -Root $args[0] -Filter '0:0' -Confirm:$false", host.Root);
        var backups = Directory.GetFiles(Path.GetDirectoryName(path)!, "pci.conf.*.pcipt.bak").Select(File.ReadAllText).ToList();
        Assert.Contains(backups, b => b.StartsWith("# keep this comment\n:filter: '0:0'\n", StringComparison.Ordinal));
        Assert.Contains(backups, b => b.Contains("  - '8086:1520'", StringComparison.Ordinal));
    }

    [Fact]
    public void WhatIf_shows_the_diff_and_writes_nothing()
    {
        using var host = new FakeHost();
        var path = host.WriteFile(DefaultPath, ":filter: '0:0'\n");
        var r = session.Ps.Run("Set-PciProbeFilter -Root $args[0] -Filter '*:*' -WhatIf", host.Root);
        Assert.Contains("What if: ", r.HostText);
        Assert.Contains("-:filter: '0:0'\n+:filter: '*:*'", r.HostText.Replace("\r", "", StringComparison.Ordinal));
        Assert.Equal(":filter: '0:0'\n", File.ReadAllText(path));
    }

    [Theory]
    [InlineData("-Filter '10de'", "InvalidPciFilter")]
    [InlineData("-DeviceName 'T4['", "InvalidDeviceNamePattern")]
    [InlineData("-ShortAddress '4:0.0'", "InvalidPciAddress")]
    [InlineData("-ShortAddress '0000:01:00.0'", "InvalidPciAddress")]
    [InlineData("-ShortAddress '0A:00.0'", "InvalidPciAddress")]
    [InlineData("-NvidiaVendors 'nvidia'", "InvalidPciFilter")]
    public void Bad_values_are_refused_before_anything_is_written(string parameters, string errorId)
    {
        using var host = new FakeHost();
        var path = host.WriteFile(DefaultPath, ":filter: '0:0'\n");
        var r = session.Ps.Run($"Set-PciProbeFilter -Root $args[0] {parameters} -Confirm:$false", host.Root);
        Assert.Equal(errorId + ",PciPassthrough.PowerShell.Commands.SetPciProbeFilterCommand", r.TerminatingError?.FullyQualifiedErrorId);
        Assert.Equal(":filter: '0:0'\n", File.ReadAllText(path));
    }

    [Fact]
    public void A_malformed_file_is_never_rewritten()
    {
        using var host = new FakeHost();
        var path = host.WriteFile(DefaultPath, ":filter: ['0:0'\n:device_name: []\n");
        var r = session.Ps.Run("Set-PciProbeFilter -Root $args[0] -Filter '*:*' -Confirm:$false", host.Root);
        Assert.Equal("InvalidProbeFilterFile,PciPassthrough.PowerShell.Commands.SetPciProbeFilterCommand", r.TerminatingError?.FullyQualifiedErrorId);
        Assert.Equal(":filter: ['0:0'\n:device_name: []\n", File.ReadAllText(path));
    }

    [Theory]
    [InlineData(":filter: '*:*'\n", "0000:00:00.0,0000:00:01.0,0000:00:1f.0,0000:00:1f.2,0000:00:1f.3,0000:01:00.0,0000:02:10.0,0000:02:10.4,0000:03:00.0,0000:04:00.0,0001:00:00.0")]
    [InlineData(":filter: '8086:*'\n:device_name: ['virtual']\n", "0000:02:10.0,0000:02:10.4")]
    [InlineData(":filter: '0:0'\n", "")]
    [InlineData(":filter: ['10de:*', '*:*:0604']\n:short_address: ['01:00.0', '00:01.0']\n", "0000:00:01.0,0000:01:00.0")]
    public void Get_PciDevice_filters_as_the_probe_does(string conf, string expected)
    {
        var path = session.Host.WriteFile("probe-" + Guid.NewGuid().ToString("N") + ".conf", conf);
        var r = session.Run("Get-PciDevice -Root $root -ProbeFilterPath $args[0]", path);
        Assert.Null(r.TerminatingError);
        // The I350 PF (02:00.0) has VFs enabled: the probe lists its VFs instead.
        Assert.Equal(expected.Split(',', StringSplitOptions.RemoveEmptyEntries), r.Values("PciAddress"));
    }

    [Fact]
    public void Another_yamldotnet_in_the_session_does_not_collide_with_the_modules_own()
    {
        // powershell-yaml loads YamlDotNet 11.2.1 into the default context; the module must still work.
        var older = typeof(YamlDotNet.Serialization.Deserializer).Assembly;
        Assert.Equal(11, older.GetName().Version!.Major);
        Assert.Same(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(older));
        using var host = new FakeHost();
        host.WriteFile(DefaultPath, ":filter: '10de:*'\n");
        var r = session.Ps.Run("(Get-PciProbeFilter -Root $args[0]).Filter", host.Root);
        Assert.Null(r.TerminatingError);
        Assert.Equal(["10de:*"], r.Output.Select(o => o.BaseObject));
        var modules = AppDomain.CurrentDomain.GetAssemblies().Where(a => a.GetName().Name == "YamlDotNet").ToList();
        Assert.Equal(2, modules.Count);
        var ours = modules.Single(a => a != older);
        Assert.Equal("PciPassthrough.Dependencies", AssemblyLoadContext.GetLoadContext(ours)!.Name);
        Assert.Equal(16, ours.GetName().Version!.Major);
    }

    [Fact]
    public void A_vendor_id_with_a_trailing_newline_is_refused_and_the_file_is_left_alone()
    {
        using var host = new FakeHost();
        var path = host.WriteFile("pci.conf", ":filter: '0:0'\n");
        var r = session.Ps.Run("Set-PciProbeFilter -Path $args[0] -NvidiaVendors $args[1] -Confirm:$false", path, "10de\n");
        Assert.Equal("InvalidPciFilter,PciPassthrough.PowerShell.Commands.SetPciProbeFilterCommand", r.TerminatingError?.FullyQualifiedErrorId);
        Assert.Equal(":filter: '0:0'\n", File.ReadAllText(path));
    }
}
