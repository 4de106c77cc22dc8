using System.Text;
using System.Text.RegularExpressions;
using PciPassthrough.HostFs;
using PciPassthrough.Iommu;
using PciPassthrough.Sysfs;

namespace PciPassthrough.HostConfig;

/// <summary>
/// The module's udev rule file that sets each device's reset_method when the device is added (at boot, or
/// on a rescan), the pattern vendor-reset uses. One line per address: the methods through
/// <c>ATTR{reset_method}</c>; a disabled reset through <c>echo</c>, because the kernel needs a newline to
/// disable and udev writes attribute values without one (a zero-length write changes nothing). A device
/// back to its default has no line.
/// </summary>
public static partial class ResetMethodRules
{
    public const string Path = "/etc/udev/rules.d/99-pcipassthrough-reset.rules";

    private const string Header = "# Written by PciPassthrough (Set-PciResetMethod -Persist): the reset methods of each device, set when\n# the kernel adds it. Edit with Set-PciResetMethod; -Default removes a device's line.\n";

    /// <summary>The persisted methods per address, in file order; an empty array means resets disabled.</summary>
    public static IReadOnlyDictionary<string, string[]> Read(HostRoot root)
    {
        ArgumentNullException.ThrowIfNull(root);
        return Parse(root.TryReadText(Path));
    }

    public static IReadOnlyDictionary<string, string[]> Parse(string? content)
    {
        var result = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var line in (content ?? "").Split('\n'))
        {
            var m = RuleLine().Match(line.Trim());
            if (m.Success)
            {
                result[m.Groups["addr"].Value] = m.Groups["methods"].Success
                    ? m.Groups["methods"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                    : [];
            }
        }

        return result;
    }

    /// <summary>
    /// The planned file with <paramref name="address"/>'s line set to <paramref name="methods"/> (empty:
    /// disabled), or removed when <paramref name="methods"/> is null (the kernel's default). Lines of other
    /// devices stay as they are.
    /// </summary>
    public static ConfigFileChange Plan(HostRoot root, IReadOnlyDictionary<string, string[]?> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        return ConfigFiles.Plan(root, Path, current =>
        {
            var rules = new Dictionary<string, string[]>(Parse(current), StringComparer.Ordinal);
            foreach (var (address, methods) in changes)
            {
                if (methods is null)
                {
                    rules.Remove(address);
                }
                else
                {
                    rules[address] = methods;
                }
            }

            var text = new StringBuilder(Header);
            foreach (var (address, methods) in rules.OrderBy(r => r.Key, StringComparer.Ordinal))
            {
                text.Append(Line(address, methods)).Append('\n');
            }

            return text.ToString();
        });
    }

    /// <summary>One rule line; <paramref name="methods"/> empty disables resets.</summary>
    public static string Line(string address, IReadOnlyList<string> methods) => methods.Count == 0
        ? $"ACTION==\"add\", SUBSYSTEM==\"pci\", KERNEL==\"{address}\", RUN+=\"/bin/sh -c 'echo > /sys$env{{DEVPATH}}/reset_method'\""
        : $"ACTION==\"add\", SUBSYSTEM==\"pci\", KERNEL==\"{address}\", ATTR{{reset_method}}=\"{string.Join(' ', methods)}\"";

    /// <summary>
    /// Test-VfioHostConfiguration's ResetMethodDrift: each persisted device's reset_method now against its
    /// rule (the rule applies when the device is next added, so a difference lasts until then).
    /// </summary>
    public static ReadinessCheck DriftCheck(HostRoot root, PciDeviceReader devices)
    {
        ArgumentNullException.ThrowIfNull(devices);
        var rules = Read(root);
        if (rules.Count == 0)
        {
            return new("ResetMethodDrift", CheckStatus.NotApplicable, $"{Path} persists no reset method.");
        }

        var problems = new List<string>();
        foreach (var (address, methods) in rules)
        {
            var device = PciAddress.TryParse(address, out var a) ? devices.Read(a) : null;
            var wanted = methods.Length == 0 ? "(disabled)" : string.Join(' ', methods);
            if (device is null)
            {
                problems.Add($"{address} has a rule ('{wanted}') but no device is at that address");
            }
            else if (!device.ResetMethods.SequenceEqual(methods))
            {
                problems.Add($"{address} runs with '{(device.ResetMethods.Length == 0 ? "(disabled)" : string.Join(' ', device.ResetMethods))}', its rule sets '{wanted}'");
            }
        }

        return problems.Count == 0
            ? new("ResetMethodDrift", CheckStatus.Pass, $"Every device with a rule in {Path} runs with its persisted reset methods ({rules.Count}).")
            : new("ResetMethodDrift", CheckStatus.Warning, string.Join("; ", problems) + ".",
                $"Apply the rules now with udevadm trigger --action=add --subsystem-match=pci, or change them with Set-PciResetMethod -Persist (-Default removes a device's rule); a rule for a device that moved must be rewritten for its new address.");
    }

    [GeneratedRegex("^ACTION==\"add\", SUBSYSTEM==\"pci\", KERNEL==\"(?<addr>[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7])\", (?:ATTR\\{reset_method\\}=\"(?<methods>[a-z_ ]+)\"|RUN\\+=\"/bin/sh -c 'echo > /sys\\$env\\{DEVPATH\\}/reset_method'\")$")]
    private static partial Regex RuleLine();
}
