using System.Diagnostics;

namespace PciPassthrough.RealKernel.Tests;

/// <summary>The QEMU guest of tests/RealKernel: whether it can run here, and one boot running the scenarios.</summary>
internal static class Testbed
{
    public static string Dir { get; } = Path.Combine(RepoPaths.Root, "tests", "RealKernel");

    /// <summary>Why the guest cannot boot here, or null when it can. Decided without booting, at discovery.</summary>
    public static string? UnavailableReason { get; } = FindUnavailableReason();

    /// <summary>The scenario files, run in this order in one engine: the host's devices first, then the VMs (vm.ps1).</summary>
    public static string[] ScenarioFiles { get; } = ["guest.ps1", "vm.ps1"];

    private static string ScenarioDir { get; } = Path.Combine(RepoPaths.Root, "tests", "PciPassthrough.RealKernel.Tests", "Scenarios");

    /// <summary>The GuestRunner built in the same configuration as this test assembly.</summary>
    public static string GuestRunner
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Name;
            return Path.Combine(RepoPaths.Root, "tests", "PciPassthrough.GuestRunner", "bin", configuration, "net10.0", "PciPassthrough.GuestRunner.dll");
        }
    }

    /// <summary>Boots the guest once, runs every scenario, and returns the results by name.</summary>
    public static (Dictionary<string, ScenarioResult> Results, string Raw, int ExitCode) RunScenarios()
    {
        var psi = new ProcessStartInfo(Path.Combine(Dir, "boot.sh")) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(Dir, "run-scenarios.sh"));
        // The runbooks run in the guest in the pinned pwsh (dotnet tool run, from NuGet's package folder) with this Pester.
        var pester = typeof(Testbed).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "PesterModule").Value;
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        // dotnet tool run finds the restored pwsh through the tool resolver cache under DOTNET_CLI_HOME (or HOME).
        var cliHome = Environment.GetEnvironmentVariable("DOTNET_CLI_HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        psi.Environment["PCIPT_APPEND"] = $"pcipt.env.PCIPT_RUNNER={GuestRunner} pcipt.env.PCIPT_SCENARIOS={string.Join(',', ScenarioFiles.Select(f => Path.Combine(ScenarioDir, f)))}"
            + $" pcipt.env.PCIPT_PESTER={pester} pcipt.env.NUGET_PACKAGES={packages} pcipt.env.PCIPT_DOTNET_CLI_HOME={cliHome}";
        psi.Environment["PCIPT_TIMEOUT"] = Environment.GetEnvironmentVariable("PCIPT_TIMEOUT") ?? "1200";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        var raw = stdout.Result + "\n--- boot.sh stderr ---\n" + stderr.Result;
        // Kept for a look after the run (CI prints only what failed): every line every scenario printed.
        Directory.CreateDirectory(Path.Combine(RepoPaths.Root, "TestResults"));
        File.WriteAllText(Path.Combine(RepoPaths.Root, "TestResults", "realkernel-guest.log"), raw);
        return (PciPassthrough.TestSupport.ScenarioFile.ParseResults(stdout.Result), raw, p.ExitCode);
    }

    private static string? FindUnavailableReason()
    {
        if (!File.Exists(Path.Combine(Dir, ".work", "env")))
        {
            return "The real-kernel testbed is not prepared: run tests/RealKernel/prepare.sh (it downloads Debian's kernel; .ci/run does this).";
        }

        var qemu = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "qemu-system-x86_64")).FirstOrDefault(File.Exists);
        if (qemu is null)
        {
            return "qemu-system-x86_64 is not installed: apt-get install qemu-system-x86 (tests/RealKernel/prepare.sh does this).";
        }

        if (!OperatingSystem.IsLinux() || Path.DirectorySeparatorChar != '/')
        {
            return "The real-kernel testbed runs on Linux only.";
        }

        return RepoPaths.Root.Contains(' ', StringComparison.Ordinal)
            ? "The repository path holds a space, which the guest's kernel command line cannot carry."
            : null;
    }
}

/// <summary>A test that needs the real-kernel guest: skipped, with the reason shown, where it cannot boot.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class RealKernelFactAttribute : FactAttribute
{
    public RealKernelFactAttribute()
    {
        if (Testbed.UnavailableReason is string reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>One boot per test run, shared by every real-kernel test.</summary>
public sealed class GuestFixture
{
    private readonly Lazy<(Dictionary<string, ScenarioResult> Results, string Raw, int ExitCode)> _run = new(Testbed.RunScenarios);

    /// <summary>The named scenario's result; fails with the guest's whole output when it did not run to its end.</summary>
    public ScenarioResult Scenario(string name)
    {
        var (results, raw, exitCode) = _run.Value;
        Assert.True(exitCode == 0, $"The guest run failed (boot.sh exit code {exitCode}).\n{raw}");
        Assert.True(results.TryGetValue(name, out var result) && result.Finished, $"Scenario '{name}' did not run to its end in the guest.\n{raw}");
        return result!;
    }
}

[CollectionDefinition(Name)]
public sealed class GuestDefinition : ICollectionFixture<GuestFixture>
{
    public const string Name = "Real kernel guest";
}
