using System.Text;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.OpenNebula;
using PciPassthrough.OpenNebula.Probe;
using PciPassthrough.Sysfs;
using PciPassthrough.Yaml;

namespace PciPassthrough.Probe;

/// <summary>
/// OpenNebula's pci.rb as a native program, installed under pci.rb's name. It mirrors the PowerShell probe
/// (src/PciPassthrough/probe/pci.ps1) step for step and runs the code Invoke-PciProbe runs, so the three print
/// the same bytes; only the start-up differs (no pwsh, no JIT).
/// </summary>
internal static class Program
{
    private const string RootVariable = "PCIPASSTHROUGH_PROBE_ROOT";

    private static int Main(string[] args)
    {
        // OpenNebula's words ("kvm <host id> <host name>") and its XML on stdin are ignored, as pci.rb ignores
        // them; only pci.ps1's two named options are read, so a test can run either probe the same way.
        var (rootOption, configurationOption) = NamedOptions(args);
        var root = rootOption ?? (Environment.GetEnvironmentVariable(RootVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : "/");
        var configurationPath = configurationOption ?? DefaultConfigurationPath();

        PciProbeFilter filter;
        try
        {
            filter = new ProbeFilterYaml().Parse(PciPassthrough.HostFs.BoundedFile.ReadText(configurationPath), configurationPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PciPassthroughException)
        {
            // pci.rb's words and status (exit(-1)), with the path exactly as it was built.
            return Fail($"Invalid configuration {configurationPath}", 255);
        }

        try
        {
            var hostRoot = new HostRoot(root);
            var probe = new PciProbe(hostRoot, filter);
            var reader = new PciDeviceReader(hostRoot, PciIdDatabaseLocator.Locate(hostRoot, null), PciProbe.ReadOptions);

            // Invoke-PciProbe's warnings (no pci.ids, unreadable devices) are silenced in pci.ps1 too: pci.rb has
            // none, and OpenNebula would take any stderr text for a failure. The blocks are encoded as they are made
            // but held until the end, so that a failure still prints nothing on stdout.
            var output = new MemoryStream(1 << 20);
            using (var writer = new StreamWriter(output, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16, leaveOpen: true))
            {
                probe.Write(reader.ReadAll(), writer);
            }

            using var stdout = Console.OpenStandardOutput();
            output.WriteTo(stdout);
            stdout.Flush();
            return 0;
        }
        catch (Exception e)
        {
            return Fail($"pci probe: {e.Message}", 1);
        }
    }

    /// <summary>
    /// pci.rb reads File.join(__dir__, "../../../../etc/im/#{ETC_NAME}/pci.conf"), ETC_NAME being the third folder
    /// from the end of the probe's folder (kvm-probes.d in .../kvm-probes.d/host/system). The folder is the one the
    /// probe was invoked from (argv[0], links not followed), so a link to the binary reads the node's pci.conf.
    /// </summary>
    private static string DefaultConfigurationPath()
    {
        var invokedAs = Path.GetFullPath(InvokedAs());
        var probeFolder = Path.GetDirectoryName(invokedAs) ?? "/";
        var parts = probeFolder.Split('/');
        var etcName = parts.Length >= 3 ? parts[^3] : "";
        return $"{probeFolder}/../../../../etc/im/{etcName}/pci.conf";
    }

    /// <summary>argv[0] as exec'd: /proc/self/cmdline's first word, which no runtime rewrites.</summary>
    private static string InvokedAs()
    {
        try
        {
            var cmdline = File.ReadAllBytes("/proc/self/cmdline");
            var end = Array.IndexOf(cmdline, (byte)0);
            var first = Encoding.UTF8.GetString(cmdline, 0, end < 0 ? cmdline.Length : end);
            if (first.Length > 0)
            {
                return first;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No procfs (a chroot without /proc): the runtime's copy of argv[0] below.
        }

        return Environment.GetCommandLineArgs()[0];
    }

    /// <summary>
    /// pci.ps1's -Root and -ConfigurationPath as PowerShell binds them: any case, any unambiguous prefix, the value
    /// as the next word or after a colon. Every other word is OpenNebula's and ignored.
    /// </summary>
    private static (string? Root, string? ConfigurationPath) NamedOptions(string[] args)
    {
        string? root = null, configurationPath = null;
        for (var i = 0; i < args.Length; i++)
        {
            var word = args[i];
            if (word.Length < 2 || word[0] != '-')
            {
                continue;
            }

            var colon = word.IndexOf(':', StringComparison.Ordinal);
            var name = colon < 0 ? word[1..] : word[1..colon];
            string? value = colon >= 0 ? word[(colon + 1)..] : i + 1 < args.Length ? args[i + 1] : null;
            var isRoot = "Root".StartsWith(name, StringComparison.OrdinalIgnoreCase);
            var isConfiguration = "ConfigurationPath".StartsWith(name, StringComparison.OrdinalIgnoreCase);
            if ((!isRoot && !isConfiguration) || value is null)
            {
                continue;
            }

            if (colon < 0)
            {
                i++;
            }

            if (isRoot)
            {
                root = value;
            }
            else
            {
                configurationPath = value;
            }
        }

        return (root, configurationPath);
    }

    private static int Fail(string message, int status)
    {
        var error = Console.Error;
        error.Write(message + "\n");
        error.Flush();
        return status;
    }
}
