namespace PciPassthrough.Cmdlets.Tests;

/// <summary>
/// Issue 24: the boot binding as admins live it. Adding a card the documented way keeps the cards bound before; replacing
/// the list is explicit and names what leaves; a group is persisted whole or not at all.
/// </summary>
public class BootBindingCmdletTests(ReadinessHostSession session) : IClassFixture<ReadinessHostSession>
{
    private const string Rtx = "0000:20:00.0";
    private const string RtxAudio = "0000:20:00.1";
    private const string T4 = "0000:41:00.0";
    private const string Common = "-SkipKernelCommandLine -Initramfs None -Confirm:$false";

    // A Debian 12 tree: an RTX 3080 and its HDMI audio in one group, a T4 alone, none bound yet.
    private static FakeHost Host()
    {
        var host = new FakeHost();
        host.Add(new FakeDevice(Rtx) { Vendor = 0x10de, Device = 0x2206, ClassCode = 0x030000, Driver = "nouveau", IommuGroup = 30, BootVga = false, MultiFunction = true });
        host.Add(new FakeDevice(RtxAudio) { Vendor = 0x10de, Device = 0x1aef, ClassCode = 0x040300, Driver = "snd_hda_intel", IommuGroup = 30 });
        host.Add(new FakeDevice(T4) { Vendor = 0x10de, Device = 0x1eb8, ClassCode = 0x030200, Driver = "nvidia", IommuGroup = 40 });
        host.WithHealthyIntelIommu();
        foreach (var dir in (string[])["etc/systemd/system", "etc/udev/rules.d", "usr/local/bin"])
        {
            Directory.CreateDirectory(Path.Combine(host.Root, dir));
        }

        return host;
    }

    private static string Config(FakeHost host) => File.ReadAllText(Path.Combine(host.Root, "etc/sysconfig/vfio-bind"));

    [Fact]
    public void Adding_a_second_card_the_documented_way_keeps_the_first()
    {
        using var host = Host();
        Assert.Null(session.Ps.Run($"Set-VfioHostConfiguration -Root $args[0] -Address {Rtx} -IncludeGroup {Common}", host.Root).TerminatingError);
        var r = session.Ps.Run($"Get-PciDevice -Root $args[0] -Filter 10de:1eb8 | Set-VfioHostConfiguration {Common}", host.Root);
        Assert.Null(r.TerminatingError);
        Assert.Empty(r.Errors);
        var config = Config(host);
        Assert.Contains($"DEVICES=\"{Rtx} {RtxAudio} {T4}\"", config, StringComparison.Ordinal);
        Assert.Contains($"DEVICE_IDS=\"{Rtx}=10de:2206 {RtxAudio}=10de:1aef {T4}=10de:1eb8\"", config, StringComparison.Ordinal);
        Assert.Empty(r.Warnings);
    }

    [Fact]
    public void Replacing_the_list_is_explicit_and_WhatIf_names_each_device_that_leaves()
    {
        using var host = Host();
        session.Ps.Run($"Set-VfioHostConfiguration -Root $args[0] -Address {Rtx}, {RtxAudio} {Common}", host.Root);
        var before = Config(host);

        var preview = session.Ps.Run($"Set-VfioHostConfiguration -Root $args[0] -Address {T4} -Replace -SkipKernelCommandLine -Initramfs None -WhatIf", host.Root);
        Assert.Null(preview.TerminatingError);
        Assert.Equal(
            [$"{Rtx} leaves the boot binding (-Replace): after the next boot it stays on its host driver.", $"{RtxAudio} leaves the boot binding (-Replace): after the next boot it stays on its host driver."],
            preview.Warnings);
        Assert.Equal(before, Config(host));

        var replaced = session.Ps.Run($"Set-VfioHostConfiguration -Root $args[0] -Address {T4} -Replace {Common}", host.Root);
        Assert.Null(replaced.TerminatingError);
        Assert.Contains($"DEVICES=\"{T4}\"", Config(host), StringComparison.Ordinal);
    }

    [Fact]
    public void Persisting_part_of_a_group_is_refused_like_binding_it_and_nothing_is_written()
    {
        using var host = Host();
        var r = session.Ps.Run($"Set-VfioHostConfiguration -Root $args[0] -Address {Rtx} {Common}", host.Root);
        Assert.NotNull(r.TerminatingError);
        Assert.StartsWith("IommuGroupNotIsolated,", r.TerminatingError!.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Contains($"{RtxAudio} (", r.TerminatingError.Exception.Message, StringComparison.Ordinal);
        Assert.Contains("-IncludeGroup", r.TerminatingError.ErrorDetails.RecommendedAction, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(host.Root, "etc/sysconfig/vfio-bind")));

        // A peer bound at boot already completes the group.
        session.Ps.Run($"Set-VfioHostConfiguration -Root $args[0] -Address {RtxAudio} -Force {Common}", host.Root);
        Assert.Null(session.Ps.Run($"Set-VfioHostConfiguration -Root $args[0] -Address {Rtx} {Common}", host.Root).TerminatingError);
        Assert.Contains($"DEVICES=\"{RtxAudio} {Rtx}\"", Config(host), StringComparison.Ordinal);
    }

    [Fact]
    public void A_listed_card_that_left_the_host_keeps_its_entry_and_the_ids_it_was_configured_for()
    {
        using var host = Host();
        host.WriteFile("etc/sysconfig/vfio-bind", "DEVICES=\"0000:81:00.0 0000:82:00.0\"\nDEVICE_IDS=\"0000:81:00.0=15b3:1017\"\n");
        var r = session.Ps.Run($"Set-VfioHostConfiguration -Root $args[0] -Address {T4} {Common}", host.Root);
        Assert.Null(r.TerminatingError);
        var config = Config(host);
        Assert.Contains($"DEVICES=\"0000:81:00.0 0000:82:00.0 {T4}\"", config, StringComparison.Ordinal);
        Assert.Contains($"DEVICE_IDS=\"0000:81:00.0=15b3:1017 {T4}=10de:1eb8\"", config, StringComparison.Ordinal);
    }

    [Fact]
    public void The_boot_binding_check_fails_while_a_listed_device_is_on_its_host_driver_or_another_card_sits_there()
    {
        using var host = Host();
        string Check() => session.Ps.Run("Test-VfioHostConfiguration -Root $args[0] | Where-Object Name -eq 'BootBindDevices' | ForEach-Object { \"$($_.Status)|$($_.Detail)\" }", host.Root).Output.Single().ToString();
        Assert.Equal("NotApplicable|No device is bound at boot.", Check());

        session.Ps.Run($"Set-VfioHostConfiguration -Root $args[0] -Address {Rtx} -IncludeGroup {Common}", host.Root);
        var onHost = Check();
        Assert.StartsWith("Fail|", onHost, StringComparison.Ordinal);
        Assert.Contains($"{Rtx} (", onHost, StringComparison.Ordinal);
        Assert.Contains("is on nouveau, not vfio-pci", onHost, StringComparison.Ordinal);
        Assert.Contains("is on snd_hda_intel, not vfio-pci", onHost, StringComparison.Ordinal);

        // The boot script ran: both on vfio-pci.
        foreach (var a in (string[])[Rtx, RtxAudio])
        {
            host.Link($"sys/bus/pci/devices/{a}/driver", "../../../bus/pci/drivers/vfio-pci");
        }

        Assert.StartsWith("Pass|", Check(), StringComparison.Ordinal);

        // Another card at the address: the boot script skips it, and the check says so.
        File.WriteAllText(Path.Combine(host.Root, $"sys/bus/pci/devices/{Rtx}/device"), "0x2204\n");
        File.WriteAllText(Path.Combine(host.Root, $"sys/bus/pci/devices/{Rtx}/uevent"), "PCI_ID=10DE:2204\n");
        Assert.Contains($"{Rtx} is now 10de:2204, not the 10de:2206 it was configured for", Check(), StringComparison.Ordinal);
    }

    [Fact]
    public void Set_VfioBinding_Persist_adds_one_device_and_Remove_VfioBinding_Persist_takes_out_only_that_one()
    {
        using var host = Host();
        File.SetUnixFileMode(host.WriteFile("etc/libvirt/qemu.conf", "user = \"oneadmin\"\n"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        session.Ps.Run($"Set-VfioHostConfiguration -Root $args[0] -Address {Rtx} -IncludeGroup {Common}", host.Root);

        // A preview of binding the T4 (on nvidia) shows the boot binding it would write, and writes nothing.
        var before = Config(host);
        var preview = session.Ps.Run($"Set-VfioBinding -Root $args[0] -Address {T4} -Persist -WhatIf", host.Root);
        Assert.Null(preview.TerminatingError);
        Assert.Contains($"+DEVICES=\"{Rtx} {RtxAudio} {T4}\"", preview.HostText, StringComparison.Ordinal);
        Assert.Equal(before, Config(host));
        Assert.Equal("nvidia", session.Ps.Run($"(Get-PciDevice -Root $args[0] -Address {T4}).Driver", host.Root).Output.Single().ToString());

        // Bound to vfio-pci earlier without -Persist: -Persist now only records it for the boot.
        host.Link($"sys/bus/pci/devices/{T4}/driver", "../../../bus/pci/drivers/vfio-pci");
        var r = session.Ps.Run($"Set-VfioBinding -Root $args[0] -Address {T4} -Persist -Confirm:$false", host.Root);
        Assert.Null(r.TerminatingError);
        Assert.Empty(r.Errors);
        Assert.Contains($"DEVICES=\"{Rtx} {RtxAudio} {T4}\"", Config(host), StringComparison.Ordinal);
        var acl = File.ReadAllText(Path.Combine(host.Root, "etc/libvirt/qemu.conf"));
        Assert.Contains("\"/dev/vfio/30\"", acl, StringComparison.Ordinal);
        Assert.Contains("\"/dev/vfio/40\"", acl, StringComparison.Ordinal);

        // Back on its host driver (Remove-VfioBinding ran without -Persist): -Persist takes it out of the boot binding
        // and its group out of the ACL; the RTX stays.
        host.Link($"sys/bus/pci/devices/{T4}/driver", "../../../bus/pci/drivers/nvidia");
        r = session.Ps.Run($"Remove-VfioBinding -Root $args[0] -Address {T4} -Persist -Confirm:$false", host.Root);
        Assert.Null(r.TerminatingError);
        Assert.Contains($"DEVICES=\"{Rtx} {RtxAudio}\"", Config(host), StringComparison.Ordinal);
        Assert.Contains($"DEVICE_IDS=\"{Rtx}=10de:2206 {RtxAudio}=10de:1aef\"", Config(host), StringComparison.Ordinal);
        acl = File.ReadAllText(Path.Combine(host.Root, "etc/libvirt/qemu.conf"));
        Assert.Contains("\"/dev/vfio/30\"", acl, StringComparison.Ordinal);
        Assert.DoesNotContain("\"/dev/vfio/40\"", acl, StringComparison.Ordinal);
    }

    [Fact]
    public void Remove_VfioBinding_Persist_on_a_host_never_configured_writes_nothing()
    {
        using var host = Host();
        var r = session.Ps.Run($"Remove-VfioBinding -Root $args[0] -Address {T4} -Persist -Confirm:$false", host.Root);
        Assert.Null(r.TerminatingError);
        Assert.Empty(r.Errors);
        Assert.False(File.Exists(Path.Combine(host.Root, "etc/sysconfig/vfio-bind")));
        Assert.False(File.Exists(Path.Combine(host.Root, "usr/local/bin/vfio-bind")));
    }

    [Fact]
    public void One_question_per_call_in_the_future_tense_and_no_writes_nothing()
    {
        using var host = Host();
        session.Ps.Prompts.Clear();
        session.Ps.ChoiceAnswers.Enqueue("No");
        var declined = session.Ps.Run($"Set-VfioHostConfiguration -Root $args[0] -Address {T4} -SkipKernelCommandLine -Initramfs None -Confirm", host.Root);
        Assert.Null(declined.TerminatingError);
        var prompt = Assert.Single(session.Ps.Prompts);
        Assert.Contains("This will create /etc/sysconfig/vfio-bind, create /usr/local/bin/vfio-bind", prompt, StringComparison.Ordinal);
        Assert.EndsWith("Write these 4 files?", prompt, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(host.Root, "etc/sysconfig/vfio-bind")));
        Assert.False(File.Exists(Path.Combine(host.Root, "usr/local/bin/vfio-bind")));
        Assert.Contains(declined.Warnings, w => w.StartsWith("Nothing was written: /etc/sysconfig/vfio-bind, ", StringComparison.Ordinal));
        Assert.Empty(declined.Output);

        session.Ps.Prompts.Clear();
        session.Ps.ChoiceAnswers.Enqueue("Yes");
        var accepted = session.Ps.Run($"Set-VfioHostConfiguration -Root $args[0] -Address {T4} -SkipKernelCommandLine -Initramfs None -Confirm", host.Root);
        Assert.Null(accepted.TerminatingError);
        Assert.Single(session.Ps.Prompts);
        Assert.Contains($"DEVICES=\"{T4}\"", Config(host), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(host.Root, "usr/local/bin/vfio-bind")));
    }
}
