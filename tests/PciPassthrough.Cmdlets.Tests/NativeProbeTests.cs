using System.Diagnostics;
using System.Text;

namespace PciPassthrough.Cmdlets.Tests;

/// <summary>The built pci-probe (NativeAOT) at the top of the module folder.</summary>
internal static class NativeProbe
{
    public static string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(RepoPaths.ModuleManifest)!, "pci-probe");

    /// <summary>Why the probe cannot be tested here, or null. Under CI=true nothing is skipped: a missing probe fails.</summary>
    public static string? UnavailableReason() =>
        File.Exists(Path) || string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
            ? null
            : $"{Path} was not built: the build publishes it only where clang and zlib1g-dev are installed (apt-get install clang zlib1g-dev), then 'dotnet build PciPassthrough.sln'.";

    /// <summary>
    /// Runs the probe as OpenNebula's monitord-client does: through /bin/sh, with "kvm &lt;id&gt; &lt;name&gt;" and the host's
    /// XML on stdin, from any working directory. Returns the exit status and the exact bytes of both streams.
    /// </summary>
    public static (int Status, byte[] Stdout, byte[] Stderr) Run(string invokedAs, string hostRoot, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = workingDirectory ?? System.IO.Path.GetTempPath(),
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in (string[])["-c", "exec \"$0\" \"$@\"", invokedAs, "kvm", "0", "host01"])
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["PCIPASSTHROUGH_PROBE_ROOT"] = hostRoot;
        using var p = Process.Start(psi)!;
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        var reading = Task.WhenAll(p.StandardOutput.BaseStream.CopyToAsync(stdout), p.StandardError.BaseStream.CopyToAsync(stderr));
        try
        {
            p.StandardInput.Write("<HOST><ID>0</ID><NAME>host01</NAME><TEMPLATE><HYPERVISOR>kvm</HYPERVISOR></TEMPLATE></HOST>\n");
            p.StandardInput.Close();
        }
        catch (IOException)
        {
            // The probe never reads stdin, like pci.rb; it may have exited before the XML was written.
        }

        if (!p.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            p.Kill();
            throw new TimeoutException($"{invokedAs} ran for more than 60 s.");
        }

        reading.Wait();
        return (p.ExitCode, stdout.ToArray(), stderr.ToArray());
    }
}

/// <summary>Skipped with the reason where pci-probe was not built, never under CI=true.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class NativeProbeFactAttribute : FactAttribute
{
    public NativeProbeFactAttribute()
    {
        if (NativeProbe.UnavailableReason() is string reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>
/// pci-probe installed on a node as OpenNebula installs pci.rb (a copy, or a link to the module's binary), run the
/// way monitord-client runs it, against hand-written blocks (opennebula.md §2) and Invoke-PciProbe's output.
/// </summary>
public sealed class NativeProbeTests(SampleHostSession session) : IClassFixture<SampleHostSession>, IDisposable
{
    private const string ProbeFolder = "var/tmp/one/im/kvm-probes.d/host/system";
    private const string ConfFile = "var/tmp/one/etc/im/kvm-probes.d/pci.conf";

    private const string Vf104 = "PCI = [\n TYPE = \"8086:1520:0200\" ,\n VENDOR = \"8086\" ,\n VENDOR_NAME = \"Intel Corporation\" ,\n DEVICE = \"1520\" ,\n CLASS = \"0200\" ,\n CLASS_NAME = \"Ethernet controller\" ,\n ADDRESS = \"0000:02:10:4\" ,\n SHORT_ADDRESS = \"02:10.4\" ,\n DOMAIN = \"0000\" ,\n BUS = \"02\" ,\n SLOT = \"10\" ,\n FUNCTION = \"4\" ,\n NUMA_NODE = \"1\" ,\n IFNAME = \"-\" ,\n SRIOV = \"vf\" ,\n DEVICE_NAME = \"I350 Ethernet Controller Virtual Function\" \n]\n";


    private readonly string _nodes = Directory.CreateTempSubdirectory("pcipt-node-").FullName;

    public void Dispose() => Directory.Delete(_nodes, recursive: true);

    /// <summary>A node's /var/tmp/one with the probe as pci.rb and the given pci.conf (none when null).</summary>
    private string Node(string name, bool link, string? conf)
    {
        var node = System.IO.Path.Combine(_nodes, name);
        var probe = System.IO.Path.Combine(node, ProbeFolder, "pci.rb");
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(probe)!);
        if (link)
        {
            File.CreateSymbolicLink(probe, NativeProbe.Path);
        }
        else
        {
            File.Copy(NativeProbe.Path, probe);
        }

        if (conf is not null)
        {
            var confPath = System.IO.Path.Combine(node, ConfFile);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(confPath)!);
            File.WriteAllText(confPath, conf);
        }

        return probe;
    }

    /// <summary>Invoke-PciProbe's blocks for the same tree and pci.conf, as the probe script prints them.</summary>
    private string Cmdlet(string root, string probe)
    {
        var conf = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(probe)!, "../../../../etc/im/kvm-probes.d/pci.conf");
        var r = session.Ps.Run("param($root, $conf) Invoke-PciProbe -Root $root -ConfigurationPath $conf -WarningAction SilentlyContinue", [root, conf]);
        Assert.Null(r.TerminatingError);
        return string.Concat(r.Output.Select(o => (string)o.BaseObject + "\n"));
    }

    private static string Text(byte[] bytes) => new UTF8Encoding(false, true).GetString(bytes);

    [NativeProbeFact]
    public void A_copy_named_pci_rb_reads_the_nodes_pci_conf_and_prints_pci_rbs_bytes()
    {
        var probe = Node("copy", link: false, ":filter: '8086:1520'\n:short_address:\n  - '02:10.4'\n");
        var (status, stdout, stderr) = NativeProbe.Run(probe, session.Host.Root);
        Assert.Equal("", Text(stderr));
        Assert.Equal(0, status);
        Assert.Equal(Encoding.UTF8.GetBytes(Vf104), stdout);
        Assert.Equal(Cmdlet(session.Host.Root, probe), Text(stdout));
    }

    [NativeProbeFact]
    public void A_link_reads_pci_conf_beside_the_link_not_beside_the_binary()
    {
        var probe = Node("link", link: true, ":filter:\n  - 'abab:*'\n  - '144d:*'\n");
        var (status, stdout, stderr) = NativeProbe.Run(probe, session.Host.Root);
        Assert.Equal("", Text(stderr));
        Assert.Equal(0, status);
        Assert.Equal(Encoding.UTF8.GetBytes(ProbeGoldens.UnknownAndOtherDomain.Replace("\r", "")), stdout);
        Assert.Equal(Cmdlet(session.Host.Root, probe), Text(stdout));
    }

    [NativeProbeFact]
    public void A_relative_invocation_finds_pci_conf_from_the_working_directory()
    {
        var probe = Node("relative", link: true, ":filter: '8086:1520'\n:short_address: ['02:10.4']\n");
        var (status, stdout, _) = NativeProbe.Run("./pci.rb", session.Host.Root, System.IO.Path.GetDirectoryName(probe));
        Assert.Equal(0, status);
        Assert.Equal(Encoding.UTF8.GetBytes(Vf104), stdout);
    }

    [NativeProbeFact]
    public void Every_device_of_the_sample_and_vgpu_hosts_prints_as_Invoke_PciProbe_prints_it()
    {
        var probe = Node("all", link: false, "---\n# every device\n:filter: '*:*'\n:nvidia_vendors:\n  - '10de'\n");
        using var vgpu = VgpuHost.Create();
        foreach (var root in (string[])[session.Host.Root, vgpu.Root])
        {
            var (status, stdout, stderr) = NativeProbe.Run(probe, root);
            Assert.Equal("", Text(stderr));
            Assert.Equal(0, status);
            Assert.Contains("PCI = [\n", Text(stdout));
            Assert.Equal(Cmdlet(root, probe), Text(stdout));
        }

        Assert.Contains(" MDEV_MODE = ", Text(NativeProbe.Run(probe, vgpu.Root).Stdout));
    }

    [NativeProbeFact]
    public void The_default_filter_prints_nothing()
    {
        var probe = Node("default", link: false, "---\n:short_address: []\n");
        var (status, stdout, stderr) = NativeProbe.Run(probe, session.Host.Root);
        Assert.Equal((0, "", ""), (status, Text(stdout), Text(stderr)));
    }

    [NativeProbeFact]
    public void A_pci_conf_without_settings_is_pci_rbs_invalid_configuration_and_status_255()
    {
        // Ruby's YAML.load_file gives nil for it, and pci.rb's Hash#merge(nil) fails.
        var probe = Node("empty", link: false, "---\n");
        var (status, stdout, stderr) = NativeProbe.Run(probe, session.Host.Root);
        Assert.Equal(255, status);
        Assert.Empty(stdout);
        Assert.StartsWith("Invalid configuration ", Text(stderr), StringComparison.Ordinal);
    }

    [NativeProbeFact]
    public void An_empty_short_address_stops_the_probe_where_pci_rb_stops_with_nothing_on_stdout()
    {
        var probe = Node("nil", link: false, ":filter: '*:*'\n:short_address:\n");
        var (status, stdout, stderr) = NativeProbe.Run(probe, session.Host.Root);
        Assert.Equal(1, status);
        Assert.Empty(stdout);
        Assert.Contains(":short_address", Text(stderr), StringComparison.Ordinal);
    }

    [NativeProbeFact]
    public void A_missing_pci_conf_is_pci_rbs_invalid_configuration_and_status_255()
    {
        var probe = Node("missing", link: true, conf: null);
        var (status, stdout, stderr) = NativeProbe.Run(probe, session.Host.Root);
        Assert.Equal(255, status);
        Assert.Empty(stdout);
        Assert.Equal($"Invalid configuration {System.IO.Path.Combine(_nodes, "missing", ProbeFolder)}/../../../../etc/im/kvm-probes.d/pci.conf\n", Text(stderr));
    }

    [NativeProbeFact]
    public void A_malformed_pci_conf_is_pci_rbs_invalid_configuration_and_status_255()
    {
        var probe = Node("malformed", link: false, ":filter: ['10de:*'\n:short_address: [\n");
        var (status, stdout, stderr) = NativeProbe.Run(probe, session.Host.Root);
        Assert.Equal(255, status);
        Assert.Empty(stdout);
        Assert.Equal($"Invalid configuration {System.IO.Path.Combine(_nodes, "malformed", ProbeFolder)}/../../../../etc/im/kvm-probes.d/pci.conf\n", Text(stderr));
    }
}
