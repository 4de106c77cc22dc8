namespace PciPassthrough.RealKernel.Tests;

/// <summary>
/// SR-IOV on the guest's emulated NVMe PF (0000:08:00.0, 1b36:0010, up to 4 VFs, behind root port 00:1e.0):
/// the kernel's answers, VF creation, groups, vfio binding, the in-use refusal and a write that blocks.
/// </summary>
[Collection(GuestDefinition.Name)]
public class SriovOnRealKernelTests(GuestFixture guest)
{
    private ScenarioResult Run(string name)
    {
        var r = guest.Scenario(name);
        Assert.True(r.Terminating is null, $"{name}: {r.Terminating}");
        return r;
    }

    private static string Value(IEnumerable<string> lines, string key) => lines.Single(l => l.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..];

    [RealKernelFact]
    public void The_pf_shows_its_sriov_files_and_without_a_driver_the_module_and_the_kernel_refuse()
    {
        var r = Run("sriov-pf").Output;
        Assert.Equal("PF|4|0|True|1|1|0010|", Value(r, "pf"));          // no driver: the guest has no nvme module
        Assert.Equal("PhysicalFunctionHasNoDriver", Value(r, "nodriver"));
        Assert.Equal("2|PhysicalFunctionHasNoDriver", Value(r, "enoent")); // the kernel's ENOENT, mapped
        Assert.Equal("pci-pf-stub", Value(r, "stub"));
        Assert.Equal("NotAnSriovPhysicalFunction", Value(r, "plain"));
    }

    [RealKernelFact]
    public void Vfs_are_created_without_drivers_each_in_its_own_group_and_the_kernels_errors_map_to_the_ids()
    {
        var r = Run("sriov-create").Output;
        Assert.Equal("0|True", Value(r, "whatif"));
        Assert.Equal("0|2|False|0000:08:00.1,0000:08:00.2", Value(r, "change"));
        var vfs = r.Where(l => l.StartsWith("vf=", StringComparison.Ordinal)).Select(l => l[3..].Split('|')).ToList();
        Assert.Equal(["0000:08:00.1", "0000:08:00.2"], vfs.Select(v => v[0]));
        Assert.Equal(["0", "1"], vfs.Select(v => v[1]));
        Assert.All(vfs, v => Assert.Equal(("1b36:0010", "", "0000:08:00.0"), (v[2], v[3], v[5])));
        var groups = vfs.Select(v => v[4]).Append(Value(r, "pfgroup")).ToList();
        Assert.Equal(3, groups.Distinct().Count());                       // each VF in a group of its own
        Assert.All(groups, g => Assert.Matches("^[0-9]+$", g));
        Assert.Equal("16|VirtualFunctionInUse", Value(r, "ebusy"));        // VFs enabled already
        Assert.Equal("34|VirtualFunctionCountOutOfRange", Value(r, "erange"));
        Assert.Equal("22|VirtualFunctionCountOutOfRange", Value(r, "einval"));
        Assert.Equal("2", Value(r, "still"));
        Assert.Equal("VirtualFunctionCountOutOfRange", Value(r, "toomany"));
        Assert.Equal("0,3", Value(r, "writes"));                            // a new count goes through 0
        Assert.Equal("3|3", Value(r, "recount"));
    }

    [RealKernelFact]
    public void New_vfs_are_bound_to_vfio_and_not_removed_without_force()
    {
        var r = Run("sriov-bind").Output;
        Assert.Equal("0000:08:00.1,0000:08:00.2", Value(r, "bound"));
        Assert.Equal(["vf=0000:08:00.1|vfio-pci|True", "vf=0000:08:00.2|vfio-pci|True"], r.Where(l => l.StartsWith("vf=", StringComparison.Ordinal)));
        Assert.Equal("VirtualFunctionsBoundToVfio|2", Value(r, "unforced"));
    }

    [RealKernelFact]
    public void A_vf_whose_group_a_process_holds_is_not_removed_even_with_force()
    {
        var r = Run("sriov-in-use").Output;
        Assert.Equal(Value(r, "holder"), Value(r, "inuse"));
        Assert.Equal("VirtualFunctionInUse|2", Value(r, "refused"));
    }

    [RealKernelFact]
    public void A_removal_blocked_by_a_vfio_device_fd_times_out_names_the_holder_and_completes_when_it_lets_go()
    {
        var r = Run("sriov-timeout").Output;
        Assert.StartsWith("holding ", Value(r, "helper"), StringComparison.Ordinal);
        Assert.Equal("0", Value(r, "inuse"));                              // the group fd is closed: invisible to the scan
        Assert.Equal("SriovWriteTimeout", Value(r, "error"));
        Assert.Equal("True", Value(r, "names"));
        Assert.InRange(int.Parse(Value(r, "waited"), System.Globalization.CultureInfo.InvariantCulture), 5, 60);
        Assert.Equal("0|0", Value(r, "released"));
    }

    [RealKernelFact]
    public void The_boot_script_creates_the_vfs_with_autoprobe_off_skips_another_card_and_drift_follows_the_count()
    {
        var r = Run("sriov-boot").Output;
        Assert.Equal(
            ["wrote=/etc/sysconfig/pcipassthrough-sriov|Created", "wrote=/usr/local/bin/pcipassthrough-sriov|Created", "wrote=/etc/systemd/system/pcipassthrough-sriov.service|Created"],
            r.Where(l => l.StartsWith("wrote=", StringComparison.Ordinal)));
        Assert.Equal("pf 0000:08:00.0 1b36:0010 3 0", Value(r, "config"));
        Assert.Equal("SriovIdentityDrift:Pass,SriovCountDrift:Warning", Value(r, "before"));
        Assert.Equal("0|pcipassthrough-sriov: 0000:08:00.0: sriov_drivers_autoprobe 0 / pcipassthrough-sriov: 0000:08:00.0: creating 3 VFs", Value(r, "run"));
        Assert.Equal("3|False|3", Value(r, "created"));
        Assert.Equal("SriovIdentityDrift:Pass,SriovCountDrift:Pass", Value(r, "drift"));
        Assert.Equal("0|pcipassthrough-sriov: 0000:08:00.0 has its 3 VFs already", Value(r, "again"));
        Assert.Equal("0|pcipassthrough-sriov: 0000:08:00.0 is now 1b36:0010, not the 1b36:0011 it was configured for; skipped|3|False|3", Value(r, "mismatch"));
        Assert.Equal("Warning:0000:08:00.0 has 1 VFs, the boot creates 3.", Value(r, "changed"));
        Assert.Equal("0|pcipassthrough-sriov: 0000:08:00.0: removing its 1 VFs first / pcipassthrough-sriov: 0000:08:00.0: creating 3 VFs", Value(r, "restore"));
        Assert.Equal("3|False|3|SriovIdentityDrift:Pass,SriovCountDrift:Pass", Value(r, "restored"));
        Assert.Equal("0", Value(r, "cleared"));
    }

    [RealKernelFact]
    public void A_pf_on_vfio_pci_without_enable_sriov_is_refused()
    {
        var r = Run("sriov-vfio-pf").Output;
        Assert.Equal("vfio-pci|PhysicalFunctionOnVfio", Value(r, "onvfio"));
        Assert.Equal("2|PhysicalFunctionOnVfio", Value(r, "enoent"));
        Assert.Equal("pci-pf-stub", Value(r, "restored"));
    }
}
