using System.Diagnostics;
using PciPassthrough.HostConfig;
using static PciPassthrough.TestSupport.SriovHost;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// The boot script itself, run by /bin/sh against SriovHost's tree (PCIPASSTHROUGH_ROOT). A stand-in for
/// timeout(1) records each sysfs write in order before doing it, so the protocol (0 first, autoprobe before the
/// VFs, nothing when the count is right) is seen, not inferred from the final file.
/// </summary>
public sealed class SriovBootScriptTests : IDisposable
{
    private readonly FakeHost _host = SriovHost.Create();
    private readonly string _bin = Path.Combine(Path.GetTempPath(), "pcipt-sriovboot-" + Guid.NewGuid().ToString("N")[..12]);

    public SriovBootScriptTests()
    {
        Directory.CreateDirectory(_bin);
        File.WriteAllText(Script, SriovBootService.Script);
        // timeout 120 sh -c 'echo "$1" > "$2"' sh VALUE PATH: record "VALUE > PATH" (below the root), then run it.
        File.WriteAllText(Path.Combine(_bin, "timeout"), $"#!/bin/sh\nprintf '%s > %s\\n' \"$6\" \"${{7#{_host.Root}}}\" >> '{WriteLog}'\nshift\nexec \"$@\"\n");
        File.SetUnixFileMode(Path.Combine(_bin, "timeout"), (UnixFileMode)0b111_101_101);
    }

    private string Script => Path.Combine(_bin, "pcipassthrough-sriov");

    private string WriteLog => Path.Combine(_bin, "writes.log");

    private string[] Writes => File.Exists(WriteLog) ? File.ReadAllLines(WriteLog) : [];

    public void Dispose()
    {
        _host.Dispose();
        Directory.Delete(_bin, recursive: true);
    }

    private string Sysfs(string address, string file) => File.ReadAllText(Path.Combine(_host.DeviceDir(address), file)).Trim();

    private (int Exit, string Stderr) Run(string? config, FakeIp? pathIp = null, FakeIp? ip = null)
    {
        if (config is not null)
        {
            _host.WriteFile(SriovBootConfiguration.Path[1..], config);
        }

        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add(Script);
        psi.Environment["PCIPASSTHROUGH_ROOT"] = _host.Root;
        psi.Environment["PCIPASSTHROUGH_SRIOV_WAIT"] = "0";
        psi.Environment["PATH"] = string.Join(':', new[] { _bin, pathIp?.Dir }.OfType<string>()) + ":/usr/bin:/bin";
        if (ip is not null)
        {
            psi.Environment["PCIPASSTHROUGH_IP"] = ip.Executable;
        }

        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stderr.Result);
    }

    [Fact]
    public void Vfs_are_created_with_autoprobe_written_before_them()
    {
        var (exit, stderr) = Run("pf 0000:08:00.0 1b36:0010 3 0\n");
        Assert.Equal(0, exit);
        Assert.Equal([$"0 > /sys/bus/pci/devices/{NvmePf}/sriov_drivers_autoprobe", $"3 > /sys/bus/pci/devices/{NvmePf}/sriov_numvfs"], Writes);
        Assert.Equal(("3", "0"), (Sysfs(NvmePf, "sriov_numvfs"), Sysfs(NvmePf, "sriov_drivers_autoprobe")));
        Assert.Contains("pcipassthrough-sriov: 0000:08:00.0: creating 3 VFs", stderr);
    }

    [Fact]
    public void A_different_non_zero_count_goes_through_zero_and_the_right_count_is_not_written_again()
    {
        _host.WriteFile($"sys/bus/pci/devices/{NvmePf}/sriov_numvfs", "2\n");
        Assert.Equal(0, Run("pf 0000:08:00.0 1b36:0010 3 1\n").Exit);
        Assert.Equal([$"0 > /sys/bus/pci/devices/{NvmePf}/sriov_numvfs", $"3 > /sys/bus/pci/devices/{NvmePf}/sriov_numvfs"], Writes);

        File.Delete(WriteLog);
        var (exit, stderr) = Run(null);
        Assert.Equal(0, exit);
        Assert.Empty(Writes);
        Assert.Contains("0000:08:00.0 has its 3 VFs already", stderr);
    }

    [Theory]
    [InlineData("pf 0000:08:00.0 1b36:0011 3 0\n", 0, "0000:08:00.0 is now 1b36:0010, not the 1b36:0011 it was configured for; skipped")]
    [InlineData("pf 0000:77:00.0 1b36:0010 3 0\n", 0, "no device 0000:77:00.0; skipped")]
    [InlineData("pf 0000:00:1f.2 8086:2922 3 0\n", 0, "0000:00:1f.2 has no sriov_numvfs")]
    [InlineData("pf 0000:09:00.0 1b36:0010 3 0\n", 1, "0000:09:00.0 has no driver after 0 s: its VFs cannot be created")]
    [InlineData("pf ../../../etc 1b36:0010 3 0\n", 1, "'../../../etc' is not a PCI address; skipped")]
    [InlineData("pf 0000:08:00.0 1b36:0010 3; 0\n", 1, "0000:08:00.0: '3;' is not a VF count; skipped")]
    public void A_pf_that_is_not_the_configured_card_or_cannot_take_vfs_is_skipped_with_a_message_and_nothing_written(string config, int exitCode, string message)
    {
        var (exit, stderr) = Run(config);
        Assert.Equal(exitCode, exit);
        Assert.Contains("pcipassthrough-sriov: " + message, stderr);
        Assert.Empty(Writes);
        Assert.Equal("0", Sysfs(NvmePf, "sriov_numvfs"));
    }

    [Fact]
    public void Vf_attributes_are_set_through_the_pfs_netdev_and_never_for_a_skipped_pf()
    {
        using var ip = new FakeIp("igb-vfs.json");
        var (exit, _) = Run(
            "pf 0000:02:00.0 8086:1521 2 1\nvf 0000:02:00.0 0 mac 52:54:00:aa:bb:01 vlan 100 qos 3\nvf 0000:02:00.0 1 trust on\n" +
            "pf 0000:03:00.0 8086:10fb 2 0\nvf 0000:03:00.0 0 vlan 5\n",
            ip: ip);
        Assert.Equal(0, exit);
        Assert.Empty(Writes); // 2 VFs already, autoprobe already 1
        Assert.Equal(["[link][set][dev][enp2s0f0][vf][0][mac][52:54:00:aa:bb:01][vlan][100][qos][3]", "[link][set][dev][enp2s0f0][vf][1][trust][on]"], ip.Calls);
    }

    [Fact]
    public void Arguments_that_are_no_ip_words_are_never_run_and_under_a_root_only_the_named_ip_runs()
    {
        using var ip = new FakeIp("igb-vfs.json");
        var (exit, stderr) = Run("pf 0000:02:00.0 8086:1521 2 1\nvf 0000:02:00.0 0 mac $(touch /tmp/pcipt-pwned) *\n", ip: ip);
        Assert.Equal(1, exit);
        Assert.Contains("are not ip link arguments; skipped", stderr);
        Assert.Empty(ip.Calls);
        Assert.False(File.Exists("/tmp/pcipt-pwned"));

        // An ip on PATH is not run under a root (it would be this machine's own).
        (exit, stderr) = Run("pf 0000:02:00.0 8086:1521 2 1\nvf 0000:02:00.0 0 trust on\n", pathIp: ip);
        Assert.Equal(0, exit);
        Assert.Contains("no ip to run under", stderr);
        Assert.Empty(ip.Calls);
    }

    [Fact]
    public void Without_a_configuration_there_is_nothing_to_do()
    {
        var (exit, stderr) = Run(null);
        Assert.Equal(0, exit);
        Assert.Contains("nothing to do", stderr);
    }
}
