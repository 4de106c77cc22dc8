using System.Diagnostics;
using PciPassthrough.HostFs;

namespace PciPassthrough.Sriov;

/// <summary>
/// Runs iproute2's <c>ip</c> with an argument vector (never a shell), for the VFs' admin attributes, which
/// live in netlink rather than sysfs. Under a captured tree the host's own <c>ip</c> would act on THIS host's
/// network: there only an <c>ip</c> from PATH outside the system directories is run (the fake of a test).
/// </summary>
public sealed class IpCommand
{
    private static readonly string[] SystemDirectories = ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin"];

    private IpCommand(string executable) => Executable = executable;

    public string Executable { get; }

    /// <summary>The ip at a given path (tests: a fake that records its argv).</summary>
    internal static IpCommand At(string executable) => new(executable);

    /// <summary>The <c>ip</c> to run for this root, or null when there is none (or only the host's own, under a captured tree).</summary>
    public static IpCommand? Find(HostRoot root)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "ip");
            if (!File.Exists(candidate))
            {
                continue;
            }

            if (root.IsLiveHost || !SystemDirectories.Contains(dir.TrimEnd('/'), StringComparer.Ordinal))
            {
                return new IpCommand(candidate);
            }
        }

        return null;
    }

    /// <summary>Runs <c>ip argv...</c>; the exit code, standard output and standard error.</summary>
    public (int ExitCode, string Output, string Error) Run(IReadOnlyList<string> argv, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in argv)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi) ?? throw new IOException($"Cannot start {Executable}.");
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            return (-1, "", $"{Executable} did not finish within {timeout.TotalSeconds:0} s.");
        }

        return (p.ExitCode, output.Result, error.Result);
    }
}
