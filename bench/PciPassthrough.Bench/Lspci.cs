using System.Diagnostics;
using System.Globalization;

namespace PciPassthrough.Bench;

/// <summary>Runs lspci on a tree and reads its machine-readable output back.</summary>
internal static class Lspci
{
    public static IReadOnlyList<string> Arguments(string root) =>
        ["-vmm", "-nn", "-D", "-A", "linux-sysfs", "-O", $"sysfs.path={root}/sys/bus/pci"];

    public static string CommandLine(string root) => "lspci " + string.Join(' ', Arguments(root));

    /// <summary>One run, from process start to exit, with stdout read fully.</summary>
    public static (TimeSpan Elapsed, string Output) Run(string root)
    {
        var psi = new ProcessStartInfo("lspci")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in Arguments(root))
        {
            psi.ArgumentList.Add(a);
        }

        var start = Stopwatch.GetTimestamp();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("lspci did not start.");
        var error = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var elapsed = Stopwatch.GetElapsedTime(start);
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"lspci exited with {p.ExitCode}: {error.Result}");
        }

        return (elapsed, output);
    }

    /// <summary>The devices lspci printed: one field dictionary per <c>Slot:</c> block.</summary>
    public static List<Dictionary<string, string>> Parse(string output)
    {
        var records = new List<Dictionary<string, string>>();
        Dictionary<string, string>? current = null;
        foreach (var line in output.Split('\n'))
        {
            if (line.Length == 0)
            {
                current = null;
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var key = line[..colon];
            var value = line[(colon + 1)..].Trim();
            if (key == "Slot")
            {
                current = new Dictionary<string, string>(StringComparer.Ordinal);
                records.Add(current);
            }

            if (current is not null)
            {
                current[key] = value;
            }
        }

        return records;
    }

    /// <summary>
    /// Field by field, what lspci printed against what the module read: proof that both read the same tree
    /// and name it the same way. Returns the number of differing fields and the first few of them.
    /// </summary>
    public static (int Compared, int Differences, List<string> Examples) Compare(IReadOnlyList<Dictionary<string, string>> lspci, IEnumerable<PciDevice> devices)
    {
        var byAddress = devices.ToDictionary(d => d.PciAddress, StringComparer.Ordinal);
        int compared = 0, differences = 0;
        var examples = new List<string>();
        foreach (var record in lspci)
        {
            var slot = record["Slot"];
            if (!byAddress.TryGetValue(slot, out var d))
            {
                differences++;
                AddExample(examples, $"{slot}: lspci lists it, the module does not");
                continue;
            }

            foreach (var (key, value) in record)
            {
                string? expected = key switch
                {
                    "Class" => Mixed(d.ClassName, d.Class),
                    "Vendor" => Mixed(d.VendorName, d.VendorId),
                    "Device" => Mixed(d.DeviceName, d.DeviceId),
                    "SVendor" => Mixed(d.SubsystemVendorName, d.SubsystemVendorId),
                    "SDevice" => Mixed(d.SubsystemName, d.SubsystemId),
                    "Rev" => d.Revision,
                    "ProgIf" => d.ProgIf,
                    "Driver" => d.Driver,
                    "NUMANode" => d.NumaNode?.ToString(CultureInfo.InvariantCulture),
                    "IOMMUGroup" => d.IommuGroup?.ToString(CultureInfo.InvariantCulture),
                    _ => value, // fields the module has no property for (PhySlot, Module, ...)
                };
                compared++;
                if (expected != value)
                {
                    differences++;
                    AddExample(examples, $"{slot} {key}: lspci '{value}', module '{expected}'");
                }
            }
        }

        return (compared, differences, examples);
    }

    // lspci -nn prints "Name [id]"; an id pci.ids does not know already reads "Device [id]", as the module names it.
    private static string Mixed(string? name, string? id) =>
        name is not null && name.EndsWith($"[{id}]", StringComparison.Ordinal) ? name : $"{name} [{id}]";

    private static void AddExample(List<string> examples, string text)
    {
        if (examples.Count < 5)
        {
            examples.Add(text);
        }
    }
}
