using System.Diagnostics;
using System.Reflection;
using System.Xml.Linq;
using Xunit.Abstractions;

namespace PciPassthrough.Pester.Tests;

/// <summary>
/// The Pester suite in a real pwsh, as users run the module: the pinned PowerShell global tool and the
/// pinned Pester, against the built module folder. Every Pester test is reported by name on failure.
/// </summary>
public sealed class PesterSuiteTests(ITestOutputHelper output)
{
    private static readonly TimeSpan SuiteTimeout = TimeSpan.FromMinutes(10);

    [PesterFact]
    public void Every_Pester_test_passes_in_the_pinned_pwsh()
    {
        var resultPath = Path.Combine(RepoPaths.Root, "TestResults", "pester.xml");
        Directory.CreateDirectory(Path.GetDirectoryName(resultPath)!); // absent in a fresh clone
        File.Delete(resultPath);
        var (exitCode, text) = PinnedPwsh.Run(
            [
                "-NoProfile", "-NonInteractive", "-File", Path.Combine(RepoPaths.Root, "tests", "Pester", "Invoke-PesterSuite.ps1"),
                "-PesterModule", PinnedPwsh.PesterModule, "-ModulePath", RepoPaths.ModuleManifest, "-ResultPath", resultPath,
            ],
            SuiteTimeout);
        output.WriteLine(text);

        Assert.True(File.Exists(resultPath), $"Pester wrote no result file (exit code {exitCode}):\n{Tail(text)}");
        var results = XDocument.Load(resultPath).Root!;
        var total = (int?)results.Attribute("total") ?? 0;
        var failures = results.Descendants("test-case").Where(c => (string?)c.Attribute("result") == "Failure")
            .Select(c => $"{c.Attribute("name")?.Value}: {c.Descendants("message").FirstOrDefault()?.Value}").ToList();
        Assert.True(total > 0, $"Pester ran no test:\n{Tail(text)}");
        Assert.True(failures.Count == 0 && exitCode == 0, $"{failures.Count} Pester test(s) failed (exit code {exitCode}):\n{string.Join("\n", failures)}\n{Tail(text)}");
    }

    private static string Tail(string text) => text.Length <= 6000 ? text : text[^6000..];
}

/// <summary>The pwsh of .config/dotnet-tools.json and the Pester the test project downloads.</summary>
internal static class PinnedPwsh
{
    public const string Version = "7.6.9";

    public static string PesterModule { get; } = typeof(PinnedPwsh).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "PesterModule").Value!;

    /// <summary>Why the suite cannot run here, or null. Under CI=true nothing is skipped: a missing tool fails.</summary>
    public static string? UnavailableReason()
    {
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (!File.Exists(PesterModule))
        {
            return $"Pester is not restored at {PesterModule}: run 'dotnet build PciPassthrough.sln' where NuGet is reachable.";
        }

        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Directory.Exists(Path.Combine(packages, "powershell", Version))
            ? null
            : $"The pinned pwsh {Version} is not restored: run 'dotnet tool restore' where NuGet is reachable.";
    }

    /// <summary>Runs <c>dotnet tool run pwsh</c> from the repository (where the tool manifest is) and returns its exit code and output.</summary>
    public static (int ExitCode, string Output) Run(IEnumerable<string> arguments, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = RepoPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var a in (string[])["tool", "run", "pwsh", "--"])
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["NO_COLOR"] = "1";
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return (-1, $"Timed out after {timeout}.\n{stdout.Result}\n{stderr.Result}");
        }

        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}

/// <summary>Skipped with the reason where the pinned tools are missing, never under CI=true.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class PesterFactAttribute : FactAttribute
{
    public PesterFactAttribute()
    {
        if (PinnedPwsh.UnavailableReason() is string reason)
        {
            Skip = reason;
        }
    }
}
