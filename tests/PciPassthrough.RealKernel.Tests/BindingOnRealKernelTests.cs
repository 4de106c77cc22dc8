namespace PciPassthrough.RealKernel.Tests;

/// <summary>Set-VfioBinding and Remove-VfioBinding against a real 6.1 kernel with an emulated VT-d.</summary>
[Collection(GuestDefinition.Name)]
public class BindingOnRealKernelTests(GuestFixture guest)
{
    private ScenarioResult Run(string name)
    {
        var r = guest.Scenario(name);
        Assert.True(r.Terminating is null, $"{name}: {r.Terminating}");
        return r;
    }

    [RealKernelFact]
    public void A_bind_and_unbind_round_trip_makes_and_removes_the_group_device()
    {
        var r = Run("bind-roundtrip").Output;
        Assert.Contains("before=e1000||False", r);
        Assert.Contains("bound=vfio-pci|vfio-pci|True", r);
        Assert.Contains("again=0000:00:02.0 is already bound to vfio-pci; nothing to do.", r);
        Assert.Contains("unbound=e1000||False", r);
        Assert.Equal(["passthru=vfio-pci", "passthru=e1000"], r.Where(l => l.StartsWith("passthru=", StringComparison.Ordinal)));
    }

    [RealKernelFact]
    public void WhatIf_changes_nothing()
    {
        var r = Run("whatif").Output;
        Assert.Contains("drivers=e1000,e1000", r);
        Assert.Contains("overrides=,", r);
        Assert.Contains("state-unchanged=True", r);
    }

    [RealKernelFact]
    public void The_ich9_group_is_refused_without_include_group_and_a_bridge_is_refused()
    {
        var group = Run("group-refused").Output;
        Assert.Contains("peers=lpc_ich,ahci,i801_smbus", group);
        Assert.Contains("error=IommuGroupNotIsolated", group);
        Assert.Contains(group, l => l.StartsWith("message=", StringComparison.Ordinal) && l.Contains("0000:00:1f.0") && l.Contains("0000:00:1f.2"));
        Assert.Contains("after=lpc_ich,ahci,i801_smbus", group);

        var bridge = Run("bridge-refused").Output;
        Assert.Contains("error=DeviceIsNotAnEndpoint", bridge);
        Assert.Contains("after=pcieport", bridge);
    }

    [RealKernelFact]
    public void A_driver_that_will_not_bind_rolls_the_device_back_to_vfio_pci()
    {
        var r = Run("driver-will-not-bind").Output;
        Assert.Contains("error=VfioBindingFailed", r);
        Assert.Contains("rolledback=vfio-pci|vfio-pci", r);
        Assert.Contains("final=e1000", r);
    }

    [RealKernelFact]
    public void A_process_holding_the_group_open_makes_the_device_in_use()
    {
        var r = Run("in-use").Output;
        var holder = r.Single(l => l.StartsWith("holder=", StringComparison.Ordinal))[7..];
        Assert.Contains($"inuse={holder}:sleep", r);
        Assert.Contains("error=DeviceInUse", r);
        Assert.Contains("still=vfio-pci", r);
        Assert.Contains("released=e1000|0", r);
    }

    [RealKernelFact]
    public void Without_vfio_pci_nothing_is_touched_and_it_is_loaded_when_it_can_be()
    {
        var r = Run("vfio-unavailable").Output;
        Assert.Contains("unloaded=True", r);
        Assert.Contains("error=VfioPciUnavailable", r);
        Assert.Contains("untouched=e1000|", r);
        Assert.Contains("loaded=vfio-pci", r);
    }

    [RealKernelFact]
    public void Two_concurrent_binders_do_not_interleave()
    {
        var r = Run("concurrent").Output;
        Assert.Contains("worker 1 done", r);
        Assert.Contains("worker 2 done", r);
        Assert.Equal(["errors=0", "errors=0"], r.Where(l => l.StartsWith("errors=", StringComparison.Ordinal)));
        Assert.Contains("final=e1000|", r);
        Assert.Contains("journal=False", r);
    }

    [RealKernelFact]
    public void Two_hundred_bind_and_unbind_cycles_never_leave_the_device_without_its_driver()
    {
        var r = Run("cycles").Output;
        Assert.Contains("wrong=0", r);
        Assert.Contains("final=e1000", r);
    }

    [RealKernelFact]
    public void Persist_adds_one_device_to_the_boot_binding_while_binding_it_and_takes_it_out_while_returning_it()
    {
        var r = Run("persist").Output;
        Assert.Contains("bound=vfio-pci|\"0000:07:00.0 0000:00:02.0\"", r);
        Assert.Contains("removed=e1000|\"0000:07:00.0\"", r);
    }
}
