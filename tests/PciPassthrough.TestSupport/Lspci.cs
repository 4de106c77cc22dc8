using System.Diagnostics;

namespace PciPassthrough.TestSupport;

/// <summary>Runs the real lspci (pciutils) so tests can compare the module with it. Read-only use only.</summary>
public static class Lspci
{
    public const string MissingMessage = "lspci is not installed: apt-get install pciutils pci.ids (.ci/run does this).";

    public static bool IsInstalled => FindExecutable() is not null;

    /// <summary>Runs lspci with UDEV's hwdb disabled, so names come from pci.ids alone, as the module's do.</summary>
    public static (int ExitCode, string Output, string Error) Run(params string[] args) => Run(hwdb: false, args);

    /// <summary>Runs lspci as installed: names pci.ids lacks come from this machine's udev hwdb, if it has one.</summary>
    public static (int ExitCode, string Output, string Error) RunWithHwdb(params string[] args) => Run(hwdb: true, args);

    private static (int ExitCode, string Output, string Error) Run(bool hwdb, string[] args)
    {
        var exe = FindExecutable() ?? throw new InvalidOperationException(MissingMessage);
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (!hwdb)
        {
            psi.ArgumentList.Add("-O");
            psi.ArgumentList.Add("hwdb.disable=1");
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Arguments that make lspci read a fake host's tree instead of this machine's.</summary>
    public static string[] ForTree(FakeHost host, params string[] args) =>
        ["-A", "linux-sysfs", "-O", "sysfs.path=" + host.SysBusPci, "-i", Path.Combine(host.Root, "usr/share/misc/pci.ids"), .. args];

    /// <summary>Parses <c>lspci -vmm</c> output: one dictionary of tag to value per device.</summary>
    public static List<Dictionary<string, string>> ParseMachineReadable(string output)
    {
        var records = new List<Dictionary<string, string>>();
        foreach (var block in output.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var record = new Dictionary<string, string>();
            foreach (var line in block.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var tab = line.IndexOf(":\t", StringComparison.Ordinal);
                if (tab > 0)
                {
                    record[line[..tab]] = line[(tab + 2)..];
                }
            }

            if (record.Count > 0)
            {
                records.Add(record);
            }
        }

        return records;
    }

    /// <summary>The addresses of <c>lspci -D</c>'s plain output, one per line.</summary>
    public static List<string> Addresses(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]).ToList();

    /// <summary>How lspci -nn shows a name with its id; unknown names already carry it (<c>Device [7777]</c>).</summary>
    public static string WithId(string? name, string? id) =>
        name is not null && name.EndsWith($"[{id}]", StringComparison.Ordinal) ? name : $"{name} [{id}]";

    private static string? FindExecutable() =>
        new[] { "/usr/bin/lspci", "/usr/sbin/lspci", "/bin/lspci", "/sbin/lspci" }.FirstOrDefault(File.Exists);
}
