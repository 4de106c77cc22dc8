namespace PciPassthrough.RealKernel.Tests;

/// <summary>What a real 6.1 kernel with an emulated Intel IOMMU shows through the module.</summary>
[Collection(GuestDefinition.Name)]
public class IommuOnRealKernelTests(GuestFixture guest)
{
    private static Dictionary<string, string[]> Inventory(GuestFixture guest) =>
        guest.Scenario("inventory").Output.Select(l => l.Split('|')).ToDictionary(f => f[0]);

    [RealKernelFact]
    public void The_inventory_shows_the_guests_devices_and_drivers()
    {
        var devices = Inventory(guest);
        Assert.Equal("8086:100e:0200", devices["0000:00:02.0"][1]);
        Assert.Equal("e1000", devices["0000:00:02.0"][2]);
        Assert.Equal("e1000", devices["0000:00:03.0"][2]);
        Assert.Equal("8086:10d3:0200", devices["0000:01:00.0"][1]);
        Assert.Equal("e1000e", devices["0000:01:00.0"][2]);
        Assert.Equal("True", devices["0000:00:05.0"][4]);
        Assert.Equal("pcieport", devices["0000:00:05.0"][2]);
        Assert.Contains("82540EM", devices["0000:00:02.0"][5]);
    }

    [RealKernelFact]
    public void The_ids_taken_from_uevent_are_the_attribute_files_ids()
    {
        var devices = guest.Scenario("inventory-ids").Output.Where(l => l.StartsWith("ids=", StringComparison.Ordinal)).Select(l => l[4..].Split('|')).ToList();
        Assert.Equal(Inventory(guest).Count, devices.Count);
        foreach (var d in devices)
        {
            Assert.True(d[1] == d[2], $"{d[0]}: the module read '{d[1]}', the attribute files say '{d[2]}'");

            // The kernel's own uevent lines, in the one form the reader takes, hold the same ids: the ids came from there.
            var ids = d[1].Split(' ');
            var uevent = d[3].Split(',').Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(
                [$"PCI_CLASS={Convert.ToInt32(ids[2], 16):X4}", $"PCI_ID={ids[0].ToUpperInvariant()}:{ids[1].ToUpperInvariant()}", $"PCI_SUBSYS_ID={ids[3].ToUpperInvariant()}:{ids[4].ToUpperInvariant()}"],
                uevent);
        }
    }

    [RealKernelFact]
    public void The_host_is_supported_with_interrupt_remapping()
    {
        var support = guest.Scenario("support");
        Assert.Null(support.Terminating);
        Assert.Contains("Supported=True", support.Output);
        Assert.Contains("IommuType=Intel VT-d", support.Output);
        foreach (var check in new[] { "FirmwareIommuTable", "KernelVersion", "KernelCommandLine", "IommuActive", "InterruptRemapping", "VfioModules", "VfioContainer" })
        {
            Assert.Contains($"{check}=Pass", support.Output);
        }

        Assert.Equal(["True"], guest.Scenario("support-quiet").Output);
    }

    [RealKernelFact]
    public void Each_e1000_is_alone_in_its_group()
    {
        var groups = guest.Scenario("e1000-groups").Output.Select(l => l.Split('|')).ToList();
        Assert.Equal(2, groups.Count);
        Assert.NotEqual(groups[0][0], groups[1][0]);
        Assert.Equal(["0000:00:02.0", "0000:00:03.0"], groups.Select(g => g[1]));
    }

    [RealKernelFact]
    public void The_ich9_functions_share_one_group()
    {
        var devices = Inventory(guest);
        var group = devices["0000:00:1f.0"][3];
        Assert.Equal(group, devices["0000:00:1f.2"][3]);
        Assert.Equal(group, devices["0000:00:1f.3"][3]);
        var line = guest.Scenario("groups").Output.Single(l => l.StartsWith(group + "|", StringComparison.Ordinal));
        Assert.EndsWith("|0000:00:1f.0,0000:00:1f.2,0000:00:1f.3", line);
        Assert.Equal(devices.Count(d => d.Value[3].Length > 0), guest.Scenario("groups").Output.Sum(l => l.Split('|')[2].Split(',').Length));
    }
}

[Collection(GuestDefinition.Name)]
public class ReadinessOnRealKernelTests(GuestFixture guest)
{
    [RealKernelFact]
    public void An_e1000_is_isolated_but_still_on_its_host_driver_and_the_root_port_is_refused()
    {
        var findings = guest.Scenario("readiness").Output;
        Assert.Contains("0000:00:02.0|IommuEnabled=Pass", findings);
        Assert.Contains("0000:00:02.0|IommuGroup=Pass", findings);
        Assert.Contains("0000:00:02.0|Endpoint=Pass", findings);
        Assert.Contains("0000:00:02.0|GroupIsolation=Pass", findings);
        Assert.Contains("0000:00:02.0|BoundToVfio=Warning", findings);
        Assert.Contains("0000:00:02.0|HostDriverCannotWin=Warning", findings);
        Assert.Contains("0000:00:05.0|Endpoint=Fail", findings);
    }
}

[Collection(GuestDefinition.Name)]
public class HostConfigurationOnRealKernelTests(GuestFixture guest)
{
    [RealKernelFact]
    public void The_boot_binding_unit_binds_the_chosen_e1000_and_leaves_the_other()
    {
        var r = guest.Scenario("boot-binding");
        Assert.True(r.Terminating is null, r.Terminating);
        Assert.Contains("wrote=/etc/sysconfig/vfio-bind|Created", r.Output);
        Assert.Contains("wrote=/usr/local/bin/vfio-bind|Created", r.Output);
        Assert.Contains("ids=0000:00:02.0=8086:100e", r.Output);
        Assert.Contains("rc=1", r.Output);
        Assert.Contains("stderr=vfio-bind: 0000:00:03.0 is now 8086:100e, not the dead:beef it was configured for; skipped", r.Output);
        Assert.Contains("skipped=e1000", r.Output);
        Assert.Contains("rc=0", r.Output);
        Assert.Contains("drivers=vfio-pci|e1000", r.Output);
        Assert.Contains("restored=e1000", r.Output);
    }

    [RealKernelFact]
    public void Vfio_pci_ids_with_e1000_blacklisted_make_vfio_pci_claim_both_nics()
    {
        var r = guest.Scenario("modprobe-ids");
        Assert.True(r.Terminating is null, r.Terminating);
        Assert.Contains("wrote=/etc/modprobe.d/pcipassthrough-blacklist.conf|Created", r.Output);
        Assert.Contains("wrote=/etc/modprobe.d/pcipassthrough-vfio.conf|Created", r.Output);
        Assert.Contains("unload-e1000=0", r.Output);
        Assert.Contains("load-vfio=0", r.Output);
        Assert.Contains("drivers=vfio-pci|vfio-pci", r.Output);
    }
}
