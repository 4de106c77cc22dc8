using PciPassthrough.HostConfig;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Iommu;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// Set-PciResetMethod -Persist's udev rule file, written out by hand: methods through ATTR{reset_method}
/// (udev writes the value without a newline, which the kernel accepts), a disabled reset through echo
/// (the kernel needs the newline; a zero-length write changes nothing), the default as no line.
/// </summary>
public class ResetMethodRulesTests
{
    private const string Header = "# Written by PciPassthrough (Set-PciResetMethod -Persist): the reset methods of each device, set when\n# the kernel adds it. Edit with Set-PciResetMethod; -Default removes a device's line.\n";
    private const string Bus = "ACTION==\"add\", SUBSYSTEM==\"pci\", KERNEL==\"0000:01:00.0\", ATTR{reset_method}=\"bus\"";
    private const string PmBus = "ACTION==\"add\", SUBSYSTEM==\"pci\", KERNEL==\"0000:02:00.0\", ATTR{reset_method}=\"pm bus\"";
    private const string Off = "ACTION==\"add\", SUBSYSTEM==\"pci\", KERNEL==\"0000:02:00.0\", RUN+=\"/bin/sh -c 'echo > /sys$env{DEVPATH}/reset_method'\"";

    public static TheoryData<string?, string, string?, string> Edits => new()
    {
        // before, address, methods ("-" = default, "" = disabled), after
        { null, "0000:01:00.0", "bus", Header + Bus + "\n" },
        { Header + Bus + "\n", "0000:02:00.0", "pm bus", Header + Bus + "\n" + PmBus + "\n" },
        { Header + Bus + "\n" + PmBus + "\n", "0000:02:00.0", "", Header + Bus + "\n" + Off + "\n" },
        { Header + Bus + "\n" + Off + "\n", "0000:01:00.0", "-", Header + Off + "\n" },
        // Lines that are not the module's survive only as far as they parse: the file is the module's own.
        { "# mine\n" + PmBus + "\n", "0000:01:00.0", "bus", Header + Bus + "\n" + PmBus + "\n" },
    };

    [Theory]
    [MemberData(nameof(Edits))]
    public void Each_edit_sets_or_removes_one_devices_line(string? before, string address, string? methods, string after)
    {
        using var host = new FakeHost();
        Directory.CreateDirectory(Path.Combine(host.Root, "etc/udev")); // rules.d itself is created when missing
        if (before is not null)
        {
            host.WriteFile("etc/udev/rules.d/99-pcipassthrough-reset.rules", before);
        }

        string[]? wanted = methods switch { "-" => null, "" => [], _ => methods!.Split(' ') };
        var change = ResetMethodRules.Plan(new HostRoot(host.Root), new Dictionary<string, string[]?> { [address] = wanted });
        ConfigFiles.Apply(change, DateTime.Now);
        Assert.Equal(after, File.ReadAllText(Path.Combine(host.Root, "etc/udev/rules.d/99-pcipassthrough-reset.rules")));
        Assert.Equal(before is null ? FileAction.Created : FileAction.Updated, change.Action);
        Assert.Equal(wanted ?? null, ResetMethodRules.Parse(after).GetValueOrDefault(address));
    }

    [Fact]
    public void Drift_compares_each_rule_with_the_running_reset_method()
    {
        using var host = new FakeHost()
            .Add(new FakeDevice("0000:01:00.0") { ResetMethods = "bus" })
            .Add(new FakeDevice("0000:02:00.0") { ResetMethods = "pm bus" });
        var root = new HostRoot(host.Root);
        var reader = new PciDeviceReader(root, PciIdDatabase.Empty);
        Assert.Equal(CheckStatus.NotApplicable, ResetMethodRules.DriftCheck(root, reader).Status);

        host.WriteFile("etc/udev/rules.d/99-pcipassthrough-reset.rules", Header + Bus + "\n" + PmBus + "\n");
        Assert.Equal(CheckStatus.Pass, ResetMethodRules.DriftCheck(root, reader).Status);

        host.WriteFile("etc/udev/rules.d/99-pcipassthrough-reset.rules", Header + Bus + "\n" + Off + "\n" + Bus.Replace("0000:01:00.0", "0000:09:00.0", StringComparison.Ordinal) + "\n");
        var drift = ResetMethodRules.DriftCheck(root, reader);
        Assert.Equal(CheckStatus.Warning, drift.Status);
        Assert.Equal("0000:02:00.0 runs with 'pm bus', its rule sets '(disabled)'; 0000:09:00.0 has a rule ('bus') but no device is at that address.", drift.Detail);
        Assert.Contains("udevadm trigger", drift.Remedy);
    }
}
