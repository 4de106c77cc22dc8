using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Text;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Sysfs;
using PciPassthrough.TestSupport;

namespace PciPassthrough.Bench;

/// <summary>
/// The inventory benchmark of docs/performance.md. For each tree size: the core scan in-process, Get-PciDevice
/// in a warm hosted engine and lspci as a process, interleaved, median and minimum of N runs after warm-up;
/// managed bytes allocated and retained per device; and a fresh engine (Import-Module plus the first
/// Get-PciDevice). Trees are generated (not timed) on tmpfs, /dev/shm unless --tmp says otherwise, and deleted
/// afterwards.
/// </summary>
internal static class Program
{
    private const string CmdletScript = "(Get-PciDevice -Root $args[0]).Count";
    private static FakeHost? _current;

    private static int Main(string[] args)
    {
        // The core assembly is the built module's (next to its manifest), never a copy of our own: the module's
        // PciPassthrough.dll binds to whichever PciPassthrough.Core the process has, and a stale or different
        // build would either fail (a missing member) or measure other code than the module ships.
        AssemblyLoadContext.Default.Resolving += (context, name) =>
        {
            if (name.Name != "PciPassthrough.Core")
            {
                return null;
            }

            var loaded = context.Assemblies.FirstOrDefault(a => a.GetName().Name == name.Name);
            var path = Path.Combine(Path.GetDirectoryName(RepoPaths.ModuleManifest)!, "PciPassthrough.Core.dll");
            return loaded ?? (File.Exists(path) ? context.LoadFromAssemblyPath(path) : null);
        };
        return Run(args);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Run(string[] args)
    {
        Options options;
        try
        {
            options = Options.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Options.Usage);
            return 2;
        }

        if (options.Help)
        {
            Console.WriteLine(Options.Usage);
            return 0;
        }

        var treeDirectory = options.TempDirectory ?? DefaultTempDirectory();
        if (options.Probe)
        {
            return ProbeBench.Run(options, treeDirectory);
        }

        if (!Preflight())
        {
            return 2;
        }

        Console.CancelKeyPress += (_, _) => _current?.Dispose();
        var started = DateTimeOffset.Now;
        var results = new List<SizeResult>();
        ColdEngine? cold = null;
        PowerShellSession? warm = null;
        try
        {
            foreach (var size in options.Sizes)
            {
                Log($"{size} devices: generating the tree...");
                var generating = Stopwatch.GetTimestamp();
                var (host, shape) = CreateTree(treeDirectory, size);
                _current = host;
                Log($"  {shape.PhysicalFunctions} PFs, {shape.VirtualFunctions} VFs ({shape.VfioBound} on vfio-pci), {shape.Domains} domain(s), {shape.NicBuses} NIC buses, in {Stopwatch.GetElapsedTime(generating).TotalSeconds:F1} s at {host.Root}");
                try
                {
                    // The first engine of the process pays everything once: JIT of the engine and the module, pci.ids parsing.
                    cold ??= MeasureColdEngine(host.Root, size);
                    warm ??= new PowerShellSession();
                    results.Add(MeasureSize(host.Root, size, shape, warm, options));
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

                    _current = null;
                }
            }
        }
        finally
        {
            warm?.Dispose();
        }

        var report = Report(options, started, cold!, results, DescribeModule(), treeDirectory);
        Console.WriteLine();
        Console.WriteLine(report);
        var file = options.Out ?? Path.Combine(RepoPaths.Root, "bench", "PciPassthrough.Bench", "results",
            $"inventory-{started.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}.md");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        File.WriteAllText(file, report);
        Log($"Report written to {file}");
        return results.All(r => r.Consistency.Differences == 0 && r.LspciDevices == r.Devices) ? 0 : 1;
    }

    /// <summary>FakeHost writes under the temp directory; point it at ours for the time of the writing only.</summary>
    internal static (FakeHost Host, SriovTree.Shape Shape) CreateTree(string directory, int size)
    {
        var saved = Environment.GetEnvironmentVariable("TMPDIR");
        Environment.SetEnvironmentVariable("TMPDIR", directory);
        try
        {
            return SriovTree.Create(size);
        }
        finally
        {
            Environment.SetEnvironmentVariable("TMPDIR", saved);
        }
    }

    private static bool Preflight()
    {
#if DEBUG
        Log("WARNING: this is a Debug build of the benchmark; run it with -c Release for numbers worth recording.");
#endif
        var manifest = RepoPaths.ModuleManifest;
        if (!File.Exists(manifest))
        {
            Console.Error.WriteLine($"The built module is missing: {manifest}");
            Console.Error.WriteLine($"Build it first: cd {RepoPaths.Root} && dotnet build -c Release PciPassthrough.sln");
            return false;
        }

        if (!HasPciIds())
        {
            return false;
        }

        try
        {
            _ = RunText("lspci", "--version");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            Console.Error.WriteLine($"lspci cannot be run ({e.Message}): install pciutils.");
            return false;
        }

        return true;
    }

    // Apart from Preflight's module check: touching a core type loads the core assembly from the module folder.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool HasPciIds()
    {
        if (PciIdDatabase.WellKnownPaths.Any(File.Exists))
        {
            return true;
        }

        Console.Error.WriteLine($"No pci.ids at {string.Join(" or ", PciIdDatabase.WellKnownPaths)}: install the pci.ids (Debian) or hwdata (Fedora) package.");
        return false;
    }

    private static SizeResult MeasureSize(string root, int size, SriovTree.Shape shape, PowerShellSession warm, Options options)
    {
        // Same tree, three readers: first prove they agree, then time them.
        var (_, lspciText) = Lspci.Run(root);
        var lspciRecords = Lspci.Parse(lspciText);
        var (devices, diagnostics) = CoreScan(root);
        var consistency = Lspci.Compare(lspciRecords, devices);
        Log($"  lspci listed {lspciRecords.Count}, the core read {devices.Count} ({diagnostics} diagnostics); {consistency.Compared} fields compared, {consistency.Differences} differ");
        foreach (var example in consistency.Examples)
        {
            Log("    " + example);
        }

        devices = null;
        var fresh = MeasureFreshEngine(root, size);
        Log($"  fresh engine: import {fresh.ImportMs:F0} ms + first Get-PciDevice {fresh.FirstMs:F0} ms (pci.ids cache cleared: {fresh.CachesCleared})");

        // Warm-up until tiered compilation has settled: at least N rounds and at least so many seconds, since a
        // small tree's round is too short for the JIT's background tier-up (the first rounds run slower code).
        var warming = Stopwatch.GetTimestamp();
        var rounds = 0;
        for (; rounds < options.Warmup || Stopwatch.GetElapsedTime(warming).TotalSeconds < options.WarmupSeconds; rounds++)
        {
            _ = TimeCore(root, size);
            _ = TimeCmdlet(warm, root, size);
            _ = TimeLspci(root, size);
        }

        Log($"  warm-up: {rounds} rounds in {Stopwatch.GetElapsedTime(warming).TotalSeconds:F1} s");

        var core = new List<(double Ms, long Alloc)>();
        var cmdlet = new List<(double Ms, long Alloc)>();
        var lspci = new List<double>();
        for (var i = 0; i < options.Repeat; i++)
        {
            core.Add(TimeCore(root, size));
            cmdlet.Add(TimeCmdlet(warm, root, size));
            lspci.Add(TimeLspci(root, size));
            Log($"  run {i + 1}/{options.Repeat}: core {core[^1].Ms:F1} ms, Get-PciDevice {cmdlet[^1].Ms:F1} ms, lspci {lspci[^1]:F1} ms");
        }

        var retained = MeasureRetained(root, size);
        return new SizeResult(
            size,
            shape,
            Stats.Of(core.Select(c => c.Ms)),
            Stats.Of(cmdlet.Select(c => c.Ms)),
            Stats.Of(lspci),
            Stats.Of(core.Select(c => (double)c.Alloc)).Median / size,
            Stats.Of(cmdlet.Select(c => (double)c.Alloc)).Median / size,
            retained / size,
            fresh,
            lspciRecords.Count,
            consistency);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (List<PciDevice> Devices, int Diagnostics) CoreScan(string root)
    {
        var host = new HostRoot(root);
        var reader = new PciDeviceReader(host, PciIdDatabaseLocator.Locate(host, null));
        var devices = reader.ReadAll().ToList();
        return (devices, reader.Diagnostics.Count);
    }

    private static (double Ms, long Alloc) TimeCore(string root, int expected)
    {
        Settle();
        // The whole process's allocations: a large scan reads on several threads.
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var start = Stopwatch.GetTimestamp();
        var (devices, _) = CoreScan(root);
        var elapsed = Stopwatch.GetElapsedTime(start);
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        Expect(devices.Count, expected, "the core scan");
        return (elapsed.TotalMilliseconds, allocated);
    }

    private static (double Ms, long Alloc) TimeCmdlet(PowerShellSession session, string root, int expected)
    {
        Settle();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var start = Stopwatch.GetTimestamp();
        var result = session.Run(CmdletScript, root);
        var elapsed = Stopwatch.GetElapsedTime(start);
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        ExpectCount(result, expected);
        return (elapsed.TotalMilliseconds, allocated);
    }

    private static double TimeLspci(string root, int expected)
    {
        Settle();
        var (elapsed, output) = Lspci.Run(root);
        Expect(CountSlots(output), expected, "lspci");
        return elapsed.TotalMilliseconds;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static double MeasureRetained(string root, int expected)
    {
        Settle();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var (devices, _) = CoreScan(root);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        Expect(devices.Count, expected, "the core scan");
        GC.KeepAlive(devices);
        return after - before;
    }

    private static ColdEngine MeasureColdEngine(string root, int expected)
    {
        var start = Stopwatch.GetTimestamp();
        using var session = new PowerShellSession();
        var imported = Stopwatch.GetElapsedTime(start);
        var result = session.Run(CmdletScript, root);
        var total = Stopwatch.GetElapsedTime(start);
        ExpectCount(result, expected);
        var cold = new ColdEngine(expected, imported.TotalMilliseconds, (total - imported).TotalMilliseconds);
        Log($"  first engine of the process: import {cold.ImportMs:F0} ms + first Get-PciDevice {cold.FirstMs:F0} ms");
        return cold;
    }

    private static FreshEngine MeasureFreshEngine(string root, int expected)
    {
        var cleared = ClearPciIdsCaches();
        Settle();
        var start = Stopwatch.GetTimestamp();
        using var session = new PowerShellSession();
        var imported = Stopwatch.GetElapsedTime(start);
        var result = session.Run(CmdletScript, root);
        var total = Stopwatch.GetElapsedTime(start);
        ExpectCount(result, expected);
        return new FreshEngine(imported.TotalMilliseconds, (total - imported).TotalMilliseconds, cleared);
    }

    /// <summary>
    /// A new engine in this process reuses the module's already loaded assemblies, and with them the parsed
    /// pci.ids that PciIdDatabase keeps per file. Emptying that cache makes the fresh engine parse pci.ids
    /// again, as a new pwsh process would. Returns false when the cache could not be found (then say so).
    /// </summary>
    private static bool ClearPciIdsCaches()
    {
        var cleared = 0;
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies().Where(a => a.GetName().Name == "PciPassthrough.Core"))
        {
            var cache = assembly.GetType("PciPassthrough.Ids.PciIdDatabase")
                ?.GetField("Cache", BindingFlags.NonPublic | BindingFlags.Static)
                ?.GetValue(null);
            var clear = cache?.GetType().GetMethod("Clear", Type.EmptyTypes);
            if (clear is not null)
            {
                clear.Invoke(cache, null);
                cleared++;
            }
        }

        return cleared > 0;
    }

    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static void ExpectCount(ScriptResult result, int expected)
    {
        if (result.TerminatingError is not null || result.Errors.Count > 0)
        {
            throw new InvalidOperationException($"Get-PciDevice failed: {result.TerminatingError ?? result.Errors[0]}");
        }

        if (result.Warnings.Count > 0)
        {
            throw new InvalidOperationException($"Get-PciDevice warned {result.Warnings.Count} times, first: {result.Warnings[0]}");
        }

        Expect(result.Output.Count == 1 ? Convert.ToInt32(result.Output[0].BaseObject, CultureInfo.InvariantCulture) : -1, expected, "Get-PciDevice");
    }

    private static void Expect(int actual, int expected, string who)
    {
        if (actual != expected)
        {
            throw new InvalidOperationException($"{who} listed {actual} devices, the tree has {expected}.");
        }
    }

    private static int CountSlots(string lspciOutput)
    {
        var count = 0;
        foreach (var line in lspciOutput.AsSpan().EnumerateLines())
        {
            if (line.StartsWith("Slot:", StringComparison.Ordinal))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Which module and core assemblies the hosted engine runs, and how they were built.</summary>
    private static string DescribeModule()
    {
        using var session = new PowerShellSession();
        var result = session.Run("(Get-Command Get-PciDevice).ImplementingType.Assembly; [PciPassthrough.Sysfs.PciDeviceReader].Assembly");
        var parts = result.Output.Select(o => o.BaseObject).OfType<Assembly>()
            .Select(a => $"{Path.GetFileName(a.Location)} ({(IsOptimized(a) ? "Release" : "Debug")}) from {Path.GetDirectoryName(a.Location)}");
        return string.Join("; ", parts);
    }

    private static bool IsOptimized(Assembly assembly) =>
        assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled != true;

    private static string Report(Options options, DateTimeOffset started, ColdEngine cold, List<SizeResult> results, string module, string treeDirectory)
    {
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"Command: `dotnet run -c Release --project bench/PciPassthrough.Bench --{string.Concat(options.Arguments.Select(a => " " + a))}`");
        s.AppendLine(CultureInfo.InvariantCulture, $"Run {started:yyyy-MM-dd HH:mm zzz}; {Machine()}.");
        s.AppendLine(CultureInfo.InvariantCulture, $"Module: {module}.");
        s.AppendLine(CultureInfo.InvariantCulture, $"Trees in {TreeFilesystem(treeDirectory)}; median (and minimum) of {options.Repeat} interleaved runs after at least {options.Warmup} warm-up rounds and {options.WarmupSeconds:0.#} s per size.");
        s.AppendLine();
        s.AppendLine("| Devices (PF + VF) | Core scan ms | Get-PciDevice ms | lspci ms | Get-PciDevice / lspci | Core alloc B/device | Core retained B/device | Get-PciDevice alloc B/device | Fresh engine: import + first Get-PciDevice ms |");
        s.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            s.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Devices:N0} ({r.Shape.PhysicalFunctions:N0} + {r.Shape.VirtualFunctions:N0}) | {r.Core} | {r.Cmdlet} | {r.Lspci} | {r.Cmdlet.Median / r.Lspci.Median:F2} | {r.AllocPerDevice:N0} | {r.RetainedPerDevice:N0} | {r.CmdletAllocPerDevice:N0} | {r.Fresh.ImportMs:F0} + {r.Fresh.FirstMs:F0} = {r.Fresh.ImportMs + r.Fresh.FirstMs:F0} |");
        }

        s.AppendLine();
        s.AppendLine("Cost per device (median ms per 1,000 devices), by size:");
        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture, $"- core scan: {PerThousand(results, r => r.Core.Median)}");
        s.AppendLine(CultureInfo.InvariantCulture, $"- Get-PciDevice: {PerThousand(results, r => r.Cmdlet.Median)}");
        s.AppendLine(CultureInfo.InvariantCulture, $"- lspci: {PerThousand(results, r => r.Lspci.Median)}");
        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture,
            $"First engine of the process (engine and module JIT, pci.ids parse): import {cold.ImportMs:F0} ms + first Get-PciDevice of {cold.Devices:N0} devices {cold.FirstMs:F0} ms = {cold.ImportMs + cold.FirstMs:F0} ms.");
        s.AppendLine(CultureInfo.InvariantCulture,
            $"Fresh engine column: a new runspace in the same process, module imported by its manifest, pci.ids cache {(results.All(r => r.Fresh.CachesCleared) ? "emptied first (so pci.ids is parsed again)" : "NOT emptied (pci.ids parse not included)")}.");
        s.AppendLine();
        s.AppendLine("Checks: " + string.Join("; ", results.Select(r =>
            $"{r.Devices:N0}: lspci listed {r.LspciDevices:N0}, {r.Consistency.Compared:N0} lspci fields compared with the module's, {r.Consistency.Differences} differ")) + ".");
        return s.ToString();
    }

    private static string PerThousand(List<SizeResult> results, Func<SizeResult, double> ms)
    {
        var parts = results.Select(r => $"{ms(r) * 1000 / r.Devices:F2} at {r.Devices:N0}");
        var text = string.Join(", ", parts);
        if (results.Count > 1)
        {
            // Linear cost keeps the per-device figure flat from one size to the next (1.00x).
            var steps = results.Skip(1).Select((r, i) => $"{ms(r) / r.Devices / (ms(results[i]) / results[i].Devices):F2}x");
            text += $"; per-device cost vs the previous size: {string.Join(", ", steps)}";
        }

        return text;
    }

    private static string Machine()
    {
        var cpu = "unknown CPU";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException)
        {
        }

        var lspci = RunText("lspci", "--version").Trim();
        var sma = typeof(System.Management.Automation.PSObject).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0];
        return $"{Environment.ProcessorCount} CPUs ({cpu}), {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, PowerShell engine {sma}, {lspci}";
    }

    private static string TreeFilesystem(string directory)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)) + "/";
        var mount = MountOf(full);
        return mount is null ? full : $"{full} ({mount.Value.Type} mounted at {mount.Value.Point})";
    }

    /// <summary>
    /// sysfs lives in memory, so by default the trees do too: /dev/shm when it is a tmpfs. On a disk
    /// filesystem, writing a 16,384-device tree takes minutes and its writeback disturbs the timings.
    /// </summary>
    private static string DefaultTempDirectory()
    {
        const string shm = "/dev/shm";
        return Directory.Exists(shm) && MountOf(shm + "/")?.Type == "tmpfs" ? shm : Path.GetTempPath();
    }

    private static (string Point, string Type)? MountOf(string path)
    {
        try
        {
            var mount = File.ReadLines("/proc/mounts")
                .Select(l => l.Split(' '))
                .Where(f => f.Length > 2 && path.StartsWith(f[1].EndsWith('/') ? f[1] : f[1] + "/", StringComparison.Ordinal))
                .MaxBy(f => f[1].Length);
            return mount is null ? null : (mount[1], mount[2]);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string RunText(string file, string arguments)
    {
        var psi = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, UseShellExecute = false };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{file} did not start.");
        var text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return text;
    }

    private static void Log(string message) => Console.Error.WriteLine(message);

    private sealed record ColdEngine(int Devices, double ImportMs, double FirstMs);

    private sealed record FreshEngine(double ImportMs, double FirstMs, bool CachesCleared);

    private sealed record SizeResult(
        int Devices,
        SriovTree.Shape Shape,
        Stats Core,
        Stats Cmdlet,
        Stats Lspci,
        double AllocPerDevice,
        double CmdletAllocPerDevice,
        double RetainedPerDevice,
        FreshEngine Fresh,
        int LspciDevices,
        (int Compared, int Differences, List<string> Examples) Consistency);
}

/// <summary>Median and minimum of a set of timings.</summary>
internal sealed record Stats(double Median, double Min)
{
    public static Stats Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        return new Stats(median, sorted[0]);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Median:F1} ({Min:F1})");
}

internal sealed class Options
{
    public const string Usage = """
        Usage: dotnet run -c Release --project bench/PciPassthrough.Bench -- [options]
          --sizes 512,4096,16384   tree sizes in devices (default 512,4096,16384)
          --repeat N               timed runs per size and reader (default 5)
          --warmup N               untimed rounds per size first, at least (default 2)
          --warmup-seconds S       and at least this long per size, for the JIT to settle (default 3)
          --out FILE               also write the report here (default bench/PciPassthrough.Bench/results/inventory-<time>.md)
          --tmp DIR                where to write the trees (default /dev/shm when it is a tmpfs, else $TMPDIR or /tmp)
          --keep                   keep the generated trees instead of deleting them
          --probe                  instead of the inventory: pci-probe, pci.ps1 and pci.rb as whole processes (--sizes default 4096)
          --pci-rb FILE            OpenNebula's pci.rb for --probe (or PCI_RB); without it pci.rb is left out
          --pwsh FILE              the pwsh for pci.ps1 (or PCIPASSTHROUGH_PWSH; default the pinned tool's, after dotnet tool restore; a missing file leaves pci.ps1 out)
          --probe-baseline FILE    another pci-probe binary (an earlier build) timed in the same rounds; its bytes must match
        The module must be built first: dotnet build -c Release PciPassthrough.sln (PCIPASSTHROUGH_MODULE overrides its path).
        """;

    public IReadOnlyList<int> Sizes { get; private set; } = [512, 4096, 16384];

    public int Repeat { get; private set; } = 5;

    public int Warmup { get; private set; } = 2;

    public double WarmupSeconds { get; private set; } = 3;

    public string? Out { get; private set; }

    public bool Keep { get; private set; }

    public string? TempDirectory { get; private set; }

    public bool Help { get; private set; }

    public bool Probe { get; private set; }

    public string? PciRb { get; private set; }

    public string? Pwsh { get; private set; }

    /// <summary>Another pci-probe binary (an earlier build, say) timed in the same rounds as "pci-probe (baseline)".</summary>
    public string? ProbeBaseline { get; private set; }

    private bool _sizesGiven;

    /// <summary>The probe comparison's sizes: the issue's 4,096-function host unless --sizes says otherwise.</summary>
    public IReadOnlyList<int> ProbeSizes => _sizesGiven ? Sizes : [4096];

    public IReadOnlyList<string> Arguments { get; private set; } = [];

    public static Options Parse(string[] args)
    {
        var o = new Options { Arguments = args };
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--sizes":
                    o.Sizes = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => Positive(v, "--sizes")).ToArray();
                    o._sizesGiven = true;
                    break;
                case "--repeat":
                    o.Repeat = Positive(Next(), "--repeat");
                    break;
                case "--warmup":
                    o.Warmup = int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out var w) ? w : throw new ArgumentException("--warmup needs a number.");
                    break;
                case "--warmup-seconds":
                    o.WarmupSeconds = double.TryParse(Next(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var ws) ? ws : throw new ArgumentException("--warmup-seconds needs a number.");
                    break;
                case "--out":
                    o.Out = Next();
                    break;
                case "--tmp":
                    o.TempDirectory = Directory.Exists(Next()) ? Path.GetFullPath(args[i]) : throw new ArgumentException($"--tmp: '{args[i]}' is not a directory.");
                    break;
                case "--probe":
                    o.Probe = true;
                    break;
                case "--pci-rb":
                    o.PciRb = Path.GetFullPath(Next());
                    break;
                case "--pwsh":
                    o.Pwsh = Path.GetFullPath(Next());
                    break;
                case "--probe-baseline":
                    o.ProbeBaseline = File.Exists(Next()) ? Path.GetFullPath(args[i]) : throw new ArgumentException($"--probe-baseline: '{args[i]}' does not exist.");
                    break;
                case "--keep":
                    o.Keep = true;
                    break;
                case "-h" or "--help":
                    o.Help = true;
                    break;
                default:
                    throw new ArgumentException($"Unknown option '{args[i]}'.");
            }
        }

        return o;
    }

    private static int Positive(string text, string option) =>
        int.TryParse(text, NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var v) && v > 0
            ? v
            : throw new ArgumentException($"{option}: '{text}' is not a positive number.");
}
