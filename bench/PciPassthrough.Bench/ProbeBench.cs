using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using PciPassthrough.TestSupport;

namespace PciPassthrough.Bench;

/// <summary>
/// The probe comparison of docs/performance.md: pci-probe, pci.ps1 and OpenNebula's pci.rb, each installed on a node
/// layout under pci.rb's name and run as a whole process, as monitord-client runs it (argv "kvm 0 host01", XML on
/// stdin, stdout read through a pipe). Interleaved rounds, order rotated each round; median and minimum wall time and
/// the median peak RSS (/usr/bin/time -f %M) per probe, and ratios against pci.rb from the same run.
/// </summary>
internal static class ProbeBench
{
    private const string ProbeFolder = "var/tmp/one/im/kvm-probes.d/host/system";
    private const string ConfFolder = "var/tmp/one/etc/im/kvm-probes.d";
    private const string Conf = ":filter: '*:*'\n";
    private const string HostXml = "<HOST><ID>0</ID><NAME>host01</NAME><TEMPLATE><HYPERVISOR>kvm</HYPERVISOR></TEMPLATE></HOST>\n";
    private const string SysfsVariable = "PCIPASSTHROUGH_BENCH_SYSFS";

    private sealed record Probe(string Name, string[] Command);

    private sealed record Sample(double Ms, long RssKiB, int Status, int Bytes);

    public static int Run(Options options, string treeDirectory)
    {
        var moduleDir = Path.GetDirectoryName(RepoPaths.ModuleManifest)!;
        var native = Path.Combine(moduleDir, "pci-probe");
        if (!File.Exists(native))
        {
            Console.Error.WriteLine($"{native} is missing: install clang and zlib1g-dev, then: cd {RepoPaths.Root} && dotnet build -c Release PciPassthrough.sln");
            return 2;
        }

        if (!File.Exists("/usr/bin/time"))
        {
            Console.Error.WriteLine("/usr/bin/time is missing (peak RSS): apt-get install time");
            return 2;
        }

        var pwsh = options.Pwsh ?? Environment.GetEnvironmentVariable("PCIPASSTHROUGH_PWSH") ?? PinnedPwsh();
        if (pwsh is null || !File.Exists(pwsh))
        {
            Log($"pwsh not found ({pwsh ?? "no pinned version"}): pci.ps1 is left out. Run 'dotnet tool restore' or give --pwsh.");
            pwsh = null;
        }

        var pciRb = options.PciRb ?? Environment.GetEnvironmentVariable("PCI_RB");
        var lspci = Which("lspci");
        if (pciRb is null || !File.Exists(pciRb) || Which("ruby") is null || lspci is null)
        {
            Log($"pci.rb is left out: {(pciRb is null ? "give its path with --pci-rb or PCI_RB" : !File.Exists(pciRb) ? $"{pciRb} does not exist" : "ruby or lspci is not installed")}. "
                + "It is OpenNebula's src/im_mad/remotes/node-probes.d/pci.rb (github.com/OpenNebula/one).");
            pciRb = null;
        }

        var work = Directory.CreateTempSubdirectory("pcipt-probe-bench-").FullName;
        var started = DateTimeOffset.Now;
        var report = new StringBuilder();
        try
        {
            // pci.rb reads the real /sys and runs the real lspci: on a generated tree lspci is pointed at it by a
            // wrapper first on PATH, and pci.rb's own sysfs reads (numa_node, physfn, net/) find nothing there.
            var wrapperDir = Path.Combine(work, "bin");
            Directory.CreateDirectory(wrapperDir);
            if (lspci is not null)
            {
                var wrapper = Path.Combine(wrapperDir, "lspci");
                File.WriteAllText(wrapper, $"#!/bin/sh\nexec {lspci} -A linux-sysfs -O \"sysfs.path=${SysfsVariable}\" \"$@\"\n");
                File.SetUnixFileMode(wrapper, (UnixFileMode)0b111_101_101);
            }

            var probes = new List<Probe> { new("pci-probe", [Install(work, "native", native, link: false)]) };
            if (options.ProbeBaseline is not null)
            {
                // Before/after in one run: the same bytes check (against pci-probe) shows the change kept the output.
                probes.Add(new("pci-probe (baseline)", [Install(work, "baseline", options.ProbeBaseline, link: false)]));
            }

            if (pwsh is not null)
            {
                // As the shebang would run it, with pwsh's apphost; the link makes pci.ps1 import the module beside it.
                probes.Add(new("pci.ps1", [pwsh, Install(work, "pwsh", Path.Combine(moduleDir, "pci.ps1"), link: true)]));
            }

            if (pciRb is not null)
            {
                probes.Add(new("pci.rb", [Install(work, "ruby", pciRb, link: false)]));
            }

            report.AppendLine(CultureInfo.InvariantCulture, $"# Probe comparison, {started:yyyy-MM-dd HH:mm} UTC{started:zzz}").AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"Command: dotnet run -c Release --project bench/PciPassthrough.Bench -- {string.Join(' ', options.Arguments)}").AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"pci.conf: `{Conf.TrimEnd()}`; {options.Repeat} interleaved rounds after one untimed round; median (minimum) wall ms, median peak RSS.").AppendLine();

            var ok = Scenario(report, "this host (/)", "/", null, probes, options.Repeat);
            foreach (var size in options.ProbeSizes)
            {
                Log($"{size} devices: generating the tree...");
                var (host, shape) = Program.CreateTree(treeDirectory, size);
                try
                {
                    Log($"  {shape.PhysicalFunctions} PFs, {shape.VirtualFunctions} VFs at {host.Root}");
                    ok &= Scenario(report, $"{size} functions ({shape.PhysicalFunctions} PFs, {shape.VirtualFunctions} VFs)", host.Root, wrapperDir, probes, options.Repeat);
                }
                finally
                {
                    if (options.Keep)
                    {
                        Log($"  kept {host.Root}");
                    }
                    else
                    {
                        host.Dispose();
                    }
                }
            }

            Console.WriteLine();
            Console.WriteLine(report);
            var file = options.Out ?? Path.Combine(RepoPaths.Root, "bench", "PciPassthrough.Bench", "results",
                $"probe-{started.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}.md");
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
            File.WriteAllText(file, report.ToString());
            Log($"Report written to {file}");
            return ok ? 0 : 1;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>A node's /var/tmp/one with <paramref name="source"/> as pci.rb and a pci.conf reporting every device.</summary>
    private static string Install(string work, string node, string source, bool link)
    {
        var probe = Path.Combine(work, node, ProbeFolder, "pci.rb");
        Directory.CreateDirectory(Path.GetDirectoryName(probe)!);
        if (link)
        {
            File.CreateSymbolicLink(probe, source);
        }
        else
        {
            File.Copy(source, probe);
            File.SetUnixFileMode(probe, (UnixFileMode)0b111_101_101);
        }

        var conf = Path.Combine(work, node, ConfFolder);
        Directory.CreateDirectory(conf);
        File.WriteAllText(Path.Combine(conf, "pci.conf"), Conf);
        return probe;
    }

    private static bool Scenario(StringBuilder report, string title, string root, string? wrapperDir, List<Probe> probes, int repeat)
    {
        Log($"{title}: checking the outputs...");
        var outputs = probes.Select(p => Output(p, root, wrapperDir)).ToList();
        var ok = true;
        report.AppendLine(CultureInfo.InvariantCulture, $"## {title}").AppendLine();
        for (var i = 0; i < probes.Count; i++)
        {
            var blocks = Encoding.UTF8.GetString(outputs[i]).Split("PCI = [\n").Length - 1;
            var same = outputs[i].AsSpan().SequenceEqual(outputs[0]);
            report.AppendLine(CultureInfo.InvariantCulture, $"- {probes[i].Name}: {blocks} blocks, {outputs[i].Length:N0} bytes{(i == 0 ? "" : same ? ", the same bytes as pci-probe" : ", NOT the same bytes as pci-probe")}");
            if (probes[i].Name is "pci.ps1" or "pci-probe (baseline)" && !same)
            {
                ok = false; // same code path: they must agree wherever they run
            }
        }

        if (wrapperDir is not null && probes.Any(p => p.Name == "pci.rb"))
        {
            report.AppendLine("- pci.rb read the tree through lspci only; its own sysfs reads went to this machine's /sys, so its NUMA_NODE, IFNAME and SRIOV differ and PFs with VFs are not skipped.");
        }

        report.AppendLine();

        Log($"{title}: one untimed round, then {repeat} timed rounds...");
        foreach (var p in probes)
        {
            _ = Measure(p, root, wrapperDir);
        }

        var samples = probes.ToDictionary(p => p.Name, _ => new List<Sample>());
        for (var round = 0; round < repeat; round++)
        {
            for (var k = 0; k < probes.Count; k++)
            {
                var p = probes[(round + k) % probes.Count];
                var s = Measure(p, root, wrapperDir);
                if (s.Status != 0)
                {
                    Log($"  {p.Name} exited with {s.Status}");
                    ok = false;
                }

                samples[p.Name].Add(s);
            }

            Log($"  round {round + 1}: " + string.Join(", ", probes.Select(p => $"{p.Name} {samples[p.Name][^1].Ms:F0} ms {samples[p.Name][^1].RssKiB / 1024.0:F1} MiB")));
        }

        var reference = samples.TryGetValue("pci.rb", out var rb) ? rb : null;
        report.AppendLine("| Probe | Wall ms, median (min) | Peak RSS MiB, median | Wall / pci.rb | RSS / pci.rb |")
            .AppendLine("|---|---:|---:|---:|---:|");
        foreach (var p in probes)
        {
            var s = samples[p.Name];
            var ms = Median(s.Select(x => x.Ms));
            var rss = Median(s.Select(x => (double)x.RssKiB)) / 1024.0;
            var wallRatio = reference is null ? "" : (ms / Median(reference.Select(x => x.Ms))).ToString("F2", CultureInfo.InvariantCulture);
            var rssRatio = reference is null ? "" : (rss * 1024.0 / Median(reference.Select(x => (double)x.RssKiB))).ToString("F2", CultureInfo.InvariantCulture);
            report.AppendLine(CultureInfo.InvariantCulture, $"| {p.Name} | {ms:F1} ({s.Min(x => x.Ms):F1}) | {rss:F1} | {wallRatio} | {rssRatio} |");
        }

        report.AppendLine();
        return ok;
    }

    private static byte[] Output(Probe p, string root, string? wrapperDir)
    {
        using var process = Start(p.Command, root, wrapperDir);
        using var stdout = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(stdout);
        process.WaitForExit();
        return stdout.ToArray();
    }

    private static Sample Measure(Probe p, string root, string? wrapperDir)
    {
        var rssFile = Path.GetTempFileName();
        try
        {
            var started = Stopwatch.GetTimestamp();
            using var process = Start(["/usr/bin/time", "-f", "%M", "-o", rssFile, .. p.Command], root, wrapperDir);
            var bytes = 0;
            var buffer = new byte[65536];
            int n;
            while ((n = process.StandardOutput.BaseStream.Read(buffer)) > 0)
            {
                bytes += n;
            }

            process.WaitForExit();
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var rss = long.TryParse(File.ReadAllLines(rssFile).LastOrDefault(l => l.Length > 0), NumberStyles.None, CultureInfo.InvariantCulture, out var kib) ? kib : 0;
            return new Sample(ms, rss, process.ExitCode, bytes);
        }
        finally
        {
            File.Delete(rssFile);
        }
    }

    private static Process Start(string[] command, string root, string? wrapperDir)
    {
        var psi = new ProcessStartInfo(command[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
            // The probe's own folder, not the caller's: pci.rb runs `lspci -d #{filter}` through a shell, which globs
            // '*:*' against the working directory (a file named ":filter: '0:0'" there turns it into a bad -d).
            WorkingDirectory = Path.GetDirectoryName(command[^1]),
        };
        foreach (var a in command.Skip(1).Concat(["kvm", "0", "host01"]))
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["PCIPASSTHROUGH_PROBE_ROOT"] = root;
        if (wrapperDir is not null)
        {
            psi.Environment["PATH"] = wrapperDir + ":" + Environment.GetEnvironmentVariable("PATH");
            psi.Environment[SysfsVariable] = Path.Combine(root, "sys/bus/pci");
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException($"{command[0]} did not start.");
        try
        {
            process.StandardInput.Write(HostXml);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // None of the probes reads stdin; one may be gone before the XML is written.
        }

        return process;
    }

    /// <summary>The apphost of the pwsh that .config/dotnet-tools.json pins, in the NuGet cache after 'dotnet tool restore'.</summary>
    private static string? PinnedPwsh()
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, ".config", "dotnet-tools.json")));
        var version = manifest.RootElement.GetProperty("tools").GetProperty("powershell").GetProperty("version").GetString();
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var tools = Path.Combine(packages, "powershell", version!, "tools");
        return Directory.Exists(tools) ? Directory.EnumerateFiles(tools, "pwsh", SearchOption.AllDirectories).FirstOrDefault(f => f.Contains("/unix/", StringComparison.Ordinal)) : null;
    }

    private static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static void Log(string message) => Console.Error.WriteLine(message);
}
