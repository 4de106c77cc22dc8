namespace PciPassthrough.Topology;

/// <summary>Why an IOMMU group holds the members it holds.</summary>
public enum IsolationReason
{
    /// <summary>The device is alone in its group (bridges aside, nothing shares it).</summary>
    OwnGroup,

    /// <summary>Functions of one multi-function device that the kernel does not see isolated from each other.</summary>
    SharedMultifunction,

    /// <summary>Behind a root or downstream port (or multi-function upstream port) without the ACS capability.</summary>
    BehindPortWithoutAcs,

    /// <summary>Behind a PCIe-to-PCI (or PCI-X) bridge: conventional PCI has no requester-ID isolation.</summary>
    BehindConventionalPciBridge,

    /// <summary>Behind a port that has ACS but does not enable all of SV, RR, CR and UF.</summary>
    AcsDisabledOnPort,

    /// <summary>The ACS analysis does not explain the group (a kernel quirk, an alias, or config space not readable).</summary>
    KernelQuirkOrUnknown,
}

/// <summary>An explanation of one group: the kernel formed it; this only says why.</summary>
internal sealed record IsolationExplanation(IsolationReason Reason, string? UpstreamBlocker, string Detail, string? Remedy);

/// <summary>
/// Explains IOMMU groups the way the kernel forms them (<c>pci_device_group</c>): from each member's bus
/// towards the root, the first bridge whose ACS path is not enabled pulls the devices below it into its
/// group. The kernel's groups are the truth: device-specific ACS quirks are invisible here, so a group
/// the analysis cannot explain is KernelQuirkOrUnknown, never re-computed.
/// </summary>
internal static class IsolationAnalyzer
{
    public static IsolationExplanation Explain(PciTopology topology, IReadOnlyList<string> members)
    {
        if (members.Count <= 1)
        {
            return new(IsolationReason.OwnGroup, null, "Alone in its IOMMU group.", null);
        }

        var nodes = members.Select(topology.Find).OfType<PciTopologyNode>().ToList();
        var unknown = false;
        foreach (var node in nodes.OrderByDescending(n => n.Depth))
        {
            foreach (var bridge in topology.Ancestors(node))
            {
                // pci_acs_path_enabled(bridge, NULL): the bridge and everything above it must isolate.
                var path = new[] { bridge }.Concat(topology.Ancestors(bridge)).ToList();
                var blocker = path.FirstOrDefault(b => b.IsolatesBelow == false);
                if (blocker is null)
                {
                    if (path.Any(b => b.IsolatesBelow is null))
                    {
                        unknown = true;
                    }

                    break; // the walk stops: this bridge isolates the device from everything above
                }

                return Because(blocker);
            }
        }

        var slots = nodes.Select(n => n.PciAddress[..^2]).Distinct().Count();
        if (slots == 1 && nodes.Count == members.Count)
        {
            return new(IsolationReason.SharedMultifunction, null, $"The group is the functions of one multi-function device ({members[0][..^2]}), which the kernel does not see isolated from each other (no ACS on the functions).", "Pass all the functions together (Set-VfioBinding -IncludeGroup), or choose a device that is alone in its group.");
        }

        return new(IsolationReason.KernelQuirkOrUnknown, null,
            unknown
                ? "The ACS state of the ports above the members is not readable here (run as root), so the grouping is not explained."
                : "The ACS analysis of the ports above the members does not explain the grouping (a kernel quirk, a DMA alias, or firmware).",
            "Treat the kernel's group as the unit: pass all its members together, or move the card to a slot with its own group.");
    }

    private static IsolationExplanation Because(PciTopologyNode blocker)
    {
        var a = blocker.PciAddress;
        if (blocker.IsConventional || blocker.Kind is TopologyNodeKind.PciePciBridge or TopologyNodeKind.PciPcieBridge or TopologyNodeKind.PciBridge)
        {
            return new(IsolationReason.BehindConventionalPciBridge, a,
                $"The devices sit behind the PCIe-to-PCI bridge {a}: conventional PCI has no requester-ID isolation, so the bridge and everything behind it form one group.",
                "Pass all devices behind the bridge together, or use a PCIe card in a slot behind a port with ACS.");
        }

        var acs = AcsState.From(blocker.Config);
        if (acs is { Present: true })
        {
            return new(IsolationReason.AcsDisabledOnPort, a,
                $"The port {a} has ACS but does not enable {acs.Missing} (control {acs.Control}): the firmware or a kernel parameter (pci=config_acs=, disable_acs_redir=) turned it off.",
                $"Enable ACS on {a} in the firmware setup (often 'ACS Enable' or 'PCIe ACS'), or remove the kernel parameter that disables it; the kernel's groups change only after a reboot.");
        }

        return new(IsolationReason.BehindPortWithoutAcs, a,
            $"The devices sit behind the {Describe(blocker)} {a}, which has no ACS capability: peer-to-peer traffic below it cannot be forced through the IOMMU.",
            $"Move the card to a slot behind a port with ACS (for example a CPU root port); otherwise pass everything below {a} together. The pcie_acs_override patch only hides the missing isolation.");
    }

    private static string Describe(PciTopologyNode n) => n.Kind switch
    {
        TopologyNodeKind.RootPort => "root port",
        TopologyNodeKind.SwitchDownstream => "switch downstream port",
        TopologyNodeKind.SwitchUpstream => "switch upstream port",
        _ => "port",
    };
}
