namespace PciPassthrough.Topology;

/// <summary>What a function is in the PCIe tree.</summary>
public enum TopologyNodeKind
{
    Unknown,
    Endpoint,
    RootComplexEndpoint,
    RootComplexEventCollector,
    RootPort,
    SwitchUpstream,
    SwitchDownstream,
    PciePciBridge,
    PciPcieBridge,
    PciBridge,
    HostBridge,
    VirtualFunction,
}

/// <summary>One PCI function in the host's PCIe tree, with its place, link and ACS state.</summary>
public sealed class PciTopologyNode
{
    internal static readonly string[] NoChildren = [];

    /// <summary><c>DDDD:BB:SS.F</c>.</summary>
    public string PciAddress { get; internal set; } = "";

    /// <summary>The root bus the function hangs off, <c>DDDD:BB</c> (lspci -tv's <c>[0000:00]</c>).</summary>
    public string RootBus { get; internal set; } = "";

    /// <summary>The upstream bridge's address; null for a function on a root bus.</summary>
    public string? Parent { get; internal set; }

    /// <summary>The functions directly below this bridge, in address order.</summary>
    public string[] Children { get; internal set; } = NoChildren;

    /// <summary>0 on a root bus, 1 below a root port, and so on.</summary>
    public int Depth { get; internal set; }

    public TopologyNodeKind Kind { get; internal set; }

    /// <summary>The PCIe capability's port type; null for conventional PCI or when the capability list is unreadable.</summary>
    public PciePortType? PortType { get; internal set; }

    /// <summary>A bridge's secondary bus number (the first bus below it).</summary>
    public int? SecondaryBus { get; internal set; }

    /// <summary>A bridge's subordinate bus number (the last bus below it).</summary>
    public int? SubordinateBus { get; internal set; }

    public int? IommuGroup { get; internal set; }

    public string? Driver { get; internal set; }

    public string? VendorId { get; internal set; }

    public string? DeviceId { get; internal set; }

    public string? DeviceName { get; internal set; }

    /// <summary>The kernel's current_link_speed (for example <c>8.0 GT/s PCIe</c>).</summary>
    public string? LinkSpeed { get; internal set; }

    public int? LinkWidth { get; internal set; }

    public string? MaxLinkSpeed { get; internal set; }

    public int? MaxLinkWidth { get; internal set; }

    /// <summary>How much of the config space was readable (extended space, and so ACS, needs root).</summary>
    public ConfigSpaceAccess ConfigAccess { get; internal set; }

    /// <summary>The ACS capability and control words; filled with -IncludeAcs, null when not asked or not readable.</summary>
    public AcsState? Acs { get; internal set; }

    /// <summary>
    /// For a bridge: whether the kernel counts it as isolating the functions below it (pci_acs_enabled with
    /// SV|RR|CR|UF); false for PCIe-to-PCI bridges; null when its config space cannot be read far enough.
    /// </summary>
    public bool? IsolatesBelow { get; internal set; }

    /// <summary>The line prefix and short address that draw the tree (as lspci -tv does).</summary>
    public string Tree { get; internal set; } = "";

    /// <summary>The ACS marker of the tree view: ACS+ (isolating port), ACS- (not isolating), ACS? (unknown), empty for non-ports.</summary>
    public string AcsMarker => !IsPort ? "" : IsolatesBelow switch { true => "ACS+", false => "ACS-", null => "ACS?" };

    public string Root { get; internal set; } = "/";

    /// <summary>True for root ports, switch ports and PCI bridges: functions that have a bus below them.</summary>
    public bool IsPort => Kind is TopologyNodeKind.RootPort or TopologyNodeKind.SwitchDownstream or TopologyNodeKind.SwitchUpstream
        or TopologyNodeKind.PciePciBridge or TopologyNodeKind.PciPcieBridge or TopologyNodeKind.PciBridge;

    internal PciConfigSpace Config { get; set; } = PciConfigSpace.Unreadable;

    internal bool IsConventional { get; set; }

    public override string ToString() => PciAddress;
}
