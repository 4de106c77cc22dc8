using System.Security.Cryptography;
using System.Text;

namespace PciPassthrough.Cmdlets.Tests;

/// <summary>
/// Set-VfioBinding and Remove-VfioBinding on fixture trees. No kernel stands behind a fixture tree, so a
/// real bind cannot complete here (the real-kernel tests prove that); these prove refusals, -WhatIf,
/// binding, messages, and that a failed bind leaves the tree as it was.
/// </summary>
public class BindingCmdletTests(ReadinessHostSession session) : IClassFixture<ReadinessHostSession>
{
    private const string SetFqid = ",PciPassthrough.PowerShell.Commands.SetVfioBindingCommand";

    // Every driver link, override and binder state file of the tree: what a bind would change.
    private static string Snapshot(FakeHost host)
    {
        var sb = new StringBuilder();
        foreach (var dev in Directory.GetDirectories(Path.Combine(host.Root, "sys/bus/pci/devices")).Order())
        {
            sb.Append(dev).Append(new FileInfo(Path.Combine(dev, "driver")).LinkTarget).Append(File.ReadAllText(Path.Combine(dev, "driver_override"))).Append('\n');
        }

        // The binder's journal and origins count; the lock file under /run/lock is only a lock.
        var state = Path.Combine(host.Root, "run/pcipassthrough");
        sb.Append(Directory.Exists(state) ? string.Join(",", Directory.GetFileSystemEntries(state, "*", SearchOption.AllDirectories)) : "no state");
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    [Fact]
    public void WhatIf_changes_nothing_and_says_what_it_would_do_per_device()
    {
        using var host = new FakeHost().WithHealthyIntelIommu();
        host.Add(new FakeDevice("0000:05:00.0") { Vendor = 0x10de, ClassCode = 0x030000, Driver = "nouveau", IommuGroup = 4 })
            .Add(new FakeDevice("0000:05:00.1") { Vendor = 0x10de, ClassCode = 0x040300, Driver = "snd_hda_intel", IommuGroup = 4 });
        var before = Snapshot(host);
        var r = session.Ps.Run("Get-PciDevice -Root $args[0] -Filter '10de:*' | Set-VfioBinding -IncludeGroup -WhatIf", host.Root);
        Assert.Null(r.TerminatingError);
        Assert.Empty(r.Errors);
        Assert.Equal(before, Snapshot(host));
        Assert.Contains("What if: Performing the operation \"Bind to vfio-pci\" on target \"0000:05:00.0", r.HostText);
        Assert.Contains("What if: Performing the operation \"Bind to vfio-pci\" on target \"0000:05:00.1", r.HostText);
        Assert.Equal(2, r.HostText.Split("What if:").Length - 1);
    }

    [Fact]
    public void WhatIf_with_IncludeGroup_never_offers_a_peer_already_on_vfio_pci()
    {
        using var host = new FakeHost().WithHealthyIntelIommu();
        host.Add(new FakeDevice("0000:05:00.0") { Vendor = 0x10de, ClassCode = 0x030000, Driver = "nouveau", IommuGroup = 4 })
            .Add(new FakeDevice("0000:05:00.1") { Vendor = 0x10de, ClassCode = 0x040300, Driver = "vfio-pci", IommuGroup = 4 });
        var before = Snapshot(host);
        var r = session.Ps.Run("Set-VfioBinding -Root $args[0] -Address 0000:05:00.0 -IncludeGroup -WhatIf", host.Root);
        Assert.Null(r.TerminatingError);
        Assert.Empty(r.Errors);
        Assert.Equal(before, Snapshot(host));
        Assert.Contains("What if: Performing the operation \"Bind to vfio-pci\" on target \"0000:05:00.0", r.HostText);
        Assert.DoesNotContain("on target \"0000:05:00.1", r.HostText);
        Assert.Equal(1, r.HostText.Split("What if:").Length - 1);
    }

    [Fact]
    public void WhatIf_with_IncludeGroup_never_offers_to_bind_a_device_already_on_vfio_pci_that_a_guest_holds()
    {
        using var host = new FakeHost().WithHealthyIntelIommu();
        host.Add(new FakeDevice("0000:05:00.0") { Vendor = 0x10de, ClassCode = 0x030000, Driver = "vfio-pci", IommuGroup = 4 })
            .Add(new FakeDevice("0000:05:00.1") { Vendor = 0x10de, ClassCode = 0x040300, Driver = "vfio-pci", IommuGroup = 4 })
            .AddProcess(4242, "qemu-system-x86", ["qemu-system-x86_64", "-name", "guest=one-7,debug-threads=on"], "/dev/vfio/4");
        host.WriteFile("dev/vfio/4", "");
        var before = Snapshot(host);
        var r = session.Ps.Run("Set-VfioBinding -Root $args[0] -Address 0000:05:00.0 -IncludeGroup -WhatIf", host.Root);
        Assert.Null(r.TerminatingError);
        Assert.Empty(r.Errors);
        Assert.Equal(before, Snapshot(host));
        Assert.DoesNotContain("What if:", r.HostText, StringComparison.Ordinal);
        Assert.Contains("0000:05:00.0 is already bound to vfio-pci; nothing to do.", r.HostText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0000:00:01.0", "DeviceIsNotAnEndpoint")]
    [InlineData("0000:02:00.0", "DeviceCarriesDefaultRoute")]
    [InlineData("0000:00:1f.2", "DeviceHoldsMountedStorage")]
    [InlineData("0000:03:00.0", "DeviceIsBootVga")]
    [InlineData("0000:04:00.0", "PciDeviceHasNoIommuGroup")]
    [InlineData("0000:00:1f.3", "IommuGroupNotIsolated")]
    [InlineData("../0000:01:00.0", "InvalidPciAddress")]
    [InlineData("0000:01:00.0/../../", "InvalidPciAddress")]
    [InlineData("0000:09:00.0", "PciDeviceNotFound")]
    public void Refusals_are_per_device_errors_with_stable_ids_and_nothing_changes(string address, string errorId)
    {
        var before = Snapshot(session.Host);
        var r = session.Run("Set-VfioBinding -Root $root -Address $args[0] -Confirm:$false -ErrorAction Continue", address);
        Assert.Null(r.TerminatingError);
        var e = Assert.Single(r.Errors);
        Assert.Equal(errorId + SetFqid, e.FullyQualifiedErrorId);
        Assert.Equal(address, e.TargetObject);
        Assert.NotNull(e.ErrorDetails?.RecommendedAction);
        Assert.Equal(before, Snapshot(session.Host));
    }

    [Fact]
    public void A_device_already_on_vfio_pci_is_a_no_op_that_says_so()
    {
        var before = Snapshot(session.Host);
        var r = session.Run("Set-VfioBinding -Root $root -Address 0000:02:10.4 -Confirm:$false -PassThru");
        Assert.Null(r.TerminatingError);
        Assert.Contains("0000:02:10.4 is already bound to vfio-pci; nothing to do.", r.HostText);
        Assert.Equal(["0000:02:10.4"], r.Values("PciAddress"));
        Assert.Equal(before, Snapshot(session.Host));
        var remove = session.Run("Remove-VfioBinding -Root $root -Address 0000:01:00.0 -Confirm:$false");
        Assert.Contains("0000:01:00.0 is not bound to vfio-pci (it is on nvidia); nothing to do.", remove.HostText);
    }

    [Fact]
    public void A_bind_the_kernel_does_not_complete_is_rolled_back_and_reported()
    {
        // The fixture has no kernel: the unbind write has no sysfs file to go to, so the step fails.
        using var host = ReadinessHost.Create();
        var r = session.Ps.Run("Set-VfioBinding -Root $args[0] -Address 0000:01:00.0 -Confirm:$false", host.Root);
        Assert.Equal("VfioBindingFailed" + SetFqid, r.TerminatingError?.FullyQualifiedErrorId);
        Assert.Contains("unbind from nvidia", r.TerminatingError!.Exception.Message);
        Assert.Contains("0000:01:00.0 on nvidia", r.TerminatingError.Exception.Message);
        var after = session.Ps.Run("Get-PciDevice -Root $args[0] -Address 0000:01:00.0", host.Root).Output.Single();
        Assert.Equal("nvidia", after.Properties["Driver"].Value);
        Assert.Null(after.Properties["DriverOverride"].Value);
        Assert.False(File.Exists(Path.Combine(host.Root, "run/pcipassthrough/journal")));
    }

    [Fact]
    public void Without_vfio_pci_on_a_captured_tree_nothing_is_touched()
    {
        using var host = ReadinessHost.Create();
        Directory.Delete(Path.Combine(host.Root, "sys/bus/pci/drivers/vfio-pci"), recursive: true);
        var before = Snapshot(host);
        var r = session.Ps.Run("Set-VfioBinding -Root $args[0] -Address 0000:01:00.0 -Confirm:$false", host.Root);
        Assert.True("VfioPciUnavailable" + SetFqid == r.TerminatingError?.FullyQualifiedErrorId, r.TerminatingError?.Exception.Message);
        Assert.Equal(before, Snapshot(host));
        Assert.Equal("nvidia", session.Ps.Run("(Get-PciDevice -Root $args[0] -Address 0000:01:00.0).Driver", host.Root).Output.Single().BaseObject);
    }

    [Fact]
    public void Deserialized_devices_bind_by_property_name()
    {
        var r = session.Run("""
            $copies = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize((Get-PciDevice -Root $root -Filter '10de:*')))
            $copies | Set-VfioBinding -WhatIf
            """);
        Assert.Null(r.TerminatingError);
        Assert.Empty(r.Errors);
        Assert.Contains("What if: Performing the operation \"Bind to vfio-pci\" on target \"0000:01:00.0 (TU104GL [Tesla T4], on nvidia)\"", r.HostText);
    }

    [Fact]
    public void Remove_refuses_while_a_guest_holds_the_group()
    {
        using var host = ReadinessHost.Create();
        host.WriteFile("dev/vfio/9", "");
        host.AddProcess(900, "qemu-kvm-one", ["qemu", "-name", "guest=one-8"], "/dev/vfio/9");
        var r = session.Ps.Run("Remove-VfioBinding -Root $args[0] -Address 0000:02:10.4 -Confirm:$false -ErrorAction Continue", host.Root);
        Assert.Equal("DeviceInUse,PciPassthrough.PowerShell.Commands.RemoveVfioBindingCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
        Assert.Contains("one-8", r.Errors[0].Exception.Message);
    }

    [Fact]
    public void A_stale_journal_naming_a_guests_device_stops_the_next_bind_until_it_is_cleared()
    {
        using var host = ReadinessHost.Create();
        host.WriteFile("dev/vfio/9", "");
        host.AddProcess(900, "qemu-kvm-one", ["qemu", "-name", "guest=one-7"], "/dev/vfio/9");
        var journal = host.WriteFile("run/pcipassthrough/journal", "0000:02:10.4\tigbvf\t\n");
        var before = Snapshot(host);

        var r = session.Ps.Run("Set-VfioBinding -Root $args[0] -Address 0000:01:00.0 -Confirm:$false", host.Root);
        Assert.True("BindingJournalNeedsAttention" + SetFqid == r.TerminatingError?.FullyQualifiedErrorId, r.TerminatingError?.Exception.Message);
        Assert.Contains("one-7", r.TerminatingError!.Exception.Message);
        Assert.Contains("-ClearJournal", r.TerminatingError.ErrorDetails.RecommendedAction);
        Assert.Equal(before, Snapshot(host));

        var preview = session.Ps.Run("Remove-VfioBinding -Root $args[0] -ClearJournal -WhatIf", host.Root);
        Assert.Null(preview.TerminatingError);
        Assert.Contains("0000:02:10.4 to igbvf", preview.HostText);
        Assert.True(File.Exists(journal));

        var clear = session.Ps.Run("Remove-VfioBinding -Root $args[0] -ClearJournal -Confirm:$false", host.Root);
        Assert.Null(clear.TerminatingError);
        Assert.Empty(clear.Errors);
        Assert.False(File.Exists(journal));
        Assert.Equal("vfio-pci", session.Ps.Run("(Get-PciDevice -Root $args[0] -Address 0000:02:10.4).Driver", host.Root).Output.Single().BaseObject);
    }

    [Fact]
    public void Both_cmdlets_confirm_at_high_impact()
    {
        var r = session.Ps.Run("Get-Command Set-VfioBinding, Remove-VfioBinding | ForEach-Object { '{0}:{1}:{2}' -f $_.Name, $_.ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact, $_.Parameters.ContainsKey('WhatIf') }");
        Assert.Equal(["Set-VfioBinding:High:True", "Remove-VfioBinding:High:True"], r.Output.Select(o => o.ToString()));
    }
}
