namespace PciPassthrough.RealKernel.Tests;

/// <summary>A real-kernel test that also starts VMs with libvirt: skipped, with its reason, where libvirt is not installed
/// (never under CI=true, where a missing tool is a failure).</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class VmFactAttribute : FactAttribute
{
    public VmFactAttribute()
    {
        if (Testbed.UnavailableReason is string reason)
        {
            Skip = reason;
        }
        else if (!File.Exists("/usr/sbin/libvirtd") && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = "libvirt is not installed: tests/RealKernel/prepare.sh installs libvirt-daemon and libvirt-daemon-driver-qemu (as root).";
        }
    }
}

/// <summary>
/// Real VMs (issue 23): Debian's libvirt 9.0 in the guest starts second-level VMs with the devices the module bound, placed
/// and described; each VM's SeaBIOS lists the functions it enumerated ("BB:SS.F=VVVV:DDDD").
/// </summary>
[Collection(GuestDefinition.Name)]
public class VmOnRealKernelTests(GuestFixture guest)
{
    private string[] Run(string name)
    {
        var r = guest.Scenario(name);
        Assert.True(r.Terminating is null, $"{name}: {r.Terminating}");
        Assert.StartsWith("libvirt=ready", guest.Scenario("vm-helpers").Output.Single(), StringComparison.Ordinal);
        return r.Output.ToArray();
    }

    private static string Value(IEnumerable<string> lines, string key) => lines.Single(l => l.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..];

    [VmFact]
    public void The_VM_scenarios_start_with_every_NIC_on_its_own_driver()
    {
        var r = Run("vm-baseline");
        Assert.Equal("0|0", Value(r, "vfio-reload"));
        Assert.Equal("0|0", Value(r, "modules"));
        Assert.Equal("e1000,e1000,e1000,e1000,e1000e,e1000e,e1000e", Value(r, "drivers"));
    }

    private static string[] Firmware(IEnumerable<string> lines, string key = "firmware") => Value(lines, key).Split(',');

    [VmFact]
    public void A_VM_takes_the_device_the_module_bound_and_every_refusal_names_its_domain()
    {
        var r = Run("vm-hostdev");
        Assert.Equal("0|", Value(r, "create"));
        Assert.Contains(Firmware(r), f => f.EndsWith("=8086:10d3", StringComparison.Ordinal));
        Assert.Equal("InUse|one-42:42:GroupFile:qemu-system-x86", Value(r, "holders"));
        Assert.Matches(@"^/dev/vfio/\d+$", Value(r, "path"));
        Assert.Equal("one-42", Value(r, "group"));
        foreach (var key in (string[])["unbind", "reset"])
        {
            var refusal = Value(r, key).Split('|');
            Assert.Equal("DeviceInUse", refusal[0]);
            Assert.Contains("domain one-42 (VM 42, qemu-system-x86[", refusal[1], StringComparison.Ordinal);
            Assert.StartsWith("Stop what holds it first: onevm poweroff 42 (or virsh shutdown one-42)", refusal[2], StringComparison.Ordinal);
        }

        Assert.StartsWith("Warning|It is held by domain one-42", Value(r, "readiness"), StringComparison.Ordinal);
        Assert.Equal("0", Value(r, "destroy"));
        Assert.Equal("vfio-pci|NotInUse|", Value(r, "after"));
        Assert.Equal("e1000e", Value(r, "returned"));
    }

    [VmFact]
    public void A_user_who_is_not_root_gets_unknown_never_not_in_use()
    {
        var r = Run("vm-hostdev");
        Assert.Equal("nobody", Value(r, "nonroot-uid"));
        Assert.Equal(["0000:01:00.0|Unknown|0", "0000:00:02.0|Unknown|0"], r.Where(l => l.StartsWith("nonroot-device=", StringComparison.Ordinal)).Select(l => l[15..]));
        Assert.StartsWith("Unknown|Run as root", Value(r, "nonroot-readiness"), StringComparison.Ordinal);
    }

    [VmFact]
    public void Binding_a_group_peer_of_a_running_VM_is_refused_naming_the_domain()
    {
        var r = Run("vm-group-peer");
        Assert.Equal("[]", Value(r, "peer-driver"));
        Assert.Equal("0|", Value(r, "create"));
        Assert.Contains(Firmware(r), f => f.EndsWith("=8086:100f", StringComparison.Ordinal));
        Assert.Equal("InUse|web01::GroupFile:qemu-system-x86", Value(r, "holders"));
        var refusal = Value(r, "bind-peer").Split('|');
        Assert.Equal("DeviceInUse", refusal[0]);
        Assert.Contains("domain web01 (qemu-system-x86[", refusal[1], StringComparison.Ordinal);
        Assert.Equal("Stop what holds it first: virsh shutdown web01.", refusal[2]);
        Assert.Equal("e1000|e1000", Value(r, "returned"));
    }

    [VmFact]
    public void Libvirts_managed_mode_leaves_what_the_module_bound_on_vfio_and_returns_what_it_bound_itself()
    {
        var r = Run("vm-managed");
        Assert.Equal("0|", Value(r, "create"));
        Assert.Contains(Firmware(r), f => f.EndsWith("=8086:100e", StringComparison.Ordinal));
        Assert.Contains(Firmware(r), f => f.EndsWith("=8086:10d3", StringComparison.Ordinal));
        Assert.Equal("vfio-pci|vfio-pci|InUse|managed1::GroupFile:qemu-system-x86", Value(r, "during"));
        Assert.Equal("vfio-pci|e1000", Value(r, "after"));
        Assert.Equal("Pass|Warning", Value(r, "readiness"));
        Assert.Equal("Pass", Value(r, "bootcheck")); // listed for the boot, and on vfio-pci as libvirt left it
        Assert.Equal("Fail", Value(r, "bootcheck-returned"));
        Assert.Equal("NotApplicable", Value(r, "bootcheck-removed"));
        Assert.Equal("1|e1000", Value(r, "unmanaged"));
        Assert.Equal("e1000e", Value(r, "returned"));
    }

    [VmFact]
    public void A_defined_domain_that_is_not_running_is_reported_and_warned_then_holds_the_device_when_started()
    {
        var r = Run("vm-defined");
        Assert.Equal("0", Value(r, "define"));
        Assert.Equal("one-43:43:True|NotInUse", Value(r, "assigned"));
        Assert.Equal("Warning", Value(r, "warning"));
        Assert.Equal("0", Value(r, "start"));
        Assert.Contains(Firmware(r), f => f.EndsWith("=8086:10d3", StringComparison.Ordinal));
        Assert.Equal("0|InUse|one-43:43:GroupFile:qemu-system-x86", Value(r, "running"));
        Assert.Equal("0|0", Value(r, "destroy"));
    }

    [VmFact]
    public void A_hot_plugged_device_is_held_by_the_domain_until_it_lets_go()
    {
        var r = Run("vm-hotplug");
        Assert.Equal("0|", Value(r, "create"));
        Assert.Equal("NotInUse|", Value(r, "before"));
        Assert.Equal("0|", Value(r, "attach"));
        Assert.Equal("InUse|hot1::GroupFile:qemu-system-x86", Value(r, "attached"));

        // The module's view follows libvirt's: a VM without an OS never acknowledges the unplug, so libvirt keeps the
        // hostdev and the device stays held until the VM is destroyed.
        Assert.Equal("0", Value(r, "detach"));
        Assert.Equal(Value(r, "libvirt-lists") == "1" ? "InUse|hot1::GroupFile:qemu-system-x86" : "NotInUse|", Value(r, "detached"));
        Assert.Equal("NotInUse|", Value(r, "after"));
        Assert.Equal("e1000e", Value(r, "returned"));
    }

    [VmFact]
    public void An_SRIOV_VF_reaches_a_VM_and_removing_the_PFs_VFs_is_refused_naming_the_domain()
    {
        var r = Run("vm-vf");
        Assert.Equal("pci-pf-stub", Value(r, "pf-driver"));
        Assert.Equal("0|", Value(r, "create"));
        Assert.Contains(Firmware(r), f => f.EndsWith("=1b36:0010", StringComparison.Ordinal));
        Assert.Equal("InUse|one-44:44:GroupFile:qemu-system-x86", Value(r, "holders"));
        var refusal = Value(r, "count").Split('|');
        Assert.Equal("VirtualFunctionInUse", refusal[0]);
        Assert.Contains("0000:08:00.1: domain one-44 (VM 44", refusal[1], StringComparison.Ordinal);
        Assert.StartsWith("Stop what holds it first: onevm poweroff 44", refusal[2], StringComparison.Ordinal);
        Assert.Equal("1", Value(r, "vfs"));
        Assert.Equal("0", Value(r, "after"));
    }

    [VmFact]
    public void An_mdev_reaches_a_VM_and_its_holder_is_named()
    {
        var r = Run("vm-mdev");
        Assert.Equal("0|", Value(r, "create"));
        Assert.Contains(Firmware(r), f => f.EndsWith("=4348:3253", StringComparison.Ordinal)); // mtty's PCI serial device
        Assert.Equal("one-45:45:MediatedDeviceGroup", Value(r, "holders"));
        var refusal = Value(r, "remove").Split('|');
        Assert.Equal("MediatedDeviceInUse", refusal[0]);
        Assert.Contains("domain one-45 (VM 45", refusal[1], StringComparison.Ordinal);
        Assert.Equal("0", Value(r, "after"));
    }

    [VmFact]
    public void The_firmware_finds_each_device_at_the_guest_address_the_placement_computed()
    {
        var r = Run("vm-placement");

        // pc: PCI_PASSTHROUGH_BUS 0x01 is libvirt's pci-bridge of index 1, the only bridge: the firmware's bus 1.
        Assert.Equal("0000:01:00.0>0x01:0x01:0:,0000:07:00.0>0x01:0x02:0:", Value(r, "pc-placed"));
        Assert.Equal("0|", Value(r, "pc-create"));
        Assert.Contains("01:01.0=8086:10d3", Firmware(r, "pc-firmware"));
        Assert.Contains("01:02.0=8086:10d3", Firmware(r, "pc-firmware"));

        // q35: bus PCI_ID + 1 is the root port of that controller index; ports 1-16 sit at 00:01.0-00:02.7 and the
        // firmware numbers their buses depth first, so index N is bus N while no port before it has a bridge below.
        Assert.Equal("0000:01:00.0>0x01:0000:0:,0000:07:00.0>0x02:0000:0:", Value(r, "q35-placed"));
        Assert.Equal("0|", Value(r, "q35-create"));
        Assert.StartsWith("0:pcie-root,1:pcie-root-port,2:pcie-root-port", Value(r, "q35-live"), StringComparison.Ordinal);
        Assert.Contains("01:00.0=8086:10d3", Firmware(r, "q35-firmware"));
        Assert.Contains("02:00.0=8086:10d3", Firmware(r, "q35-firmware"));

        // NUMA: one pcie-expander-bus per guest node (busNr 0x20 + 0x10 * node); a root port of controller index I on the
        // expander of index E and busNr B is the firmware's bus B + (I - E) when the ports before it have no bridge below.
        Assert.Equal("0000:01:00.0>:::4:0,0000:07:00.0>:::13:1", Value(r, "numa-placed"));
        Assert.Equal("3:0x20:0,12:0x30:1", Value(r, "numa-controllers"));
        Assert.Equal("0|", Value(r, "numa-create"));
        Assert.Contains("21:00.0=8086:10d3", Firmware(r, "numa-firmware"));
        Assert.Contains("31:00.0=8086:10d3", Firmware(r, "numa-firmware"));
        Assert.Equal("e1000e,e1000e", Value(r, "returned"));
    }

    [VmFact]
    public void The_Pester_runbooks_pass_and_fail_on_the_testbed_as_its_state_says()
    {
        var r = Run("vm-runbooks");
        Assert.Equal("0|", Value(r, "create"));
        Assert.StartsWith("0|", Value(r, "pwsh"), StringComparison.Ordinal);
        var tests = r.Where(l => l.StartsWith("test=", StringComparison.Ordinal)).Select(l => l[5..].Split('|')).ToList();

        // The testbed's host is ready: every check of Test-IommuSupport is its own test, and none fails.
        Assert.Matches(@"^HostReady\.Tests\.ps1\|\d+\|0$", r.Single(l => l.StartsWith("runbook=HostReady", StringComparison.Ordinal))[8..]);
        Assert.Contains(tests, t => t[0] == "HostReady.Tests.ps1" && t[1].EndsWith("InterruptRemapping does not fail", StringComparison.Ordinal) && t[2] == "Passed");

        // DeviceReady (every device on vfio-pci): the free 07:00.0 passes; the 01:00.0 that one-46 holds is not free.
        Assert.All(tests.Where(t => t[0] == "DeviceReady.Tests.ps1" && t[1].StartsWith("0000:07:00.0", StringComparison.Ordinal)), t => Assert.Equal("Passed", t[2]));
        var held = tests.Single(t => t[0] == "DeviceReady.Tests.ps1" && t[1].StartsWith("0000:01:00.0", StringComparison.Ordinal) && t[1].EndsWith("no guest holds it, and whether one does is known", StringComparison.Ordinal));
        Assert.Equal("Failed", held[2]);
        Assert.Contains("domain one-46 (VM 46", held[3], StringComparison.Ordinal);

        // VmHoldsDevices: the running domain (the only one: every earlier scenario destroyed its own) holds its hostdev.
        Assert.Equal(["VmHoldsDevices.Tests.ps1|2|0"], r.Where(l => l.StartsWith("runbook=VmHoldsDevices", StringComparison.Ordinal)).Select(l => l[8..]));
        Assert.Contains(tests, t => t[0] == "VmHoldsDevices.Tests.ps1" && t[1] == "Domain one-46 holds 0000:01:00.0.is held by the domain" && t[2] == "Passed");
        Assert.Equal("e1000e,e1000e", Value(r, "returned"));
    }
}
