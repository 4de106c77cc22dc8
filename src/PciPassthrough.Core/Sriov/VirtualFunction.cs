namespace PciPassthrough.Sriov;

/// <summary>
/// One SR-IOV virtual function as Get-PciVirtualFunction shows it: where it sits (its PF and index), what
/// holds it (driver, override, IOMMU group, guests) and its network side. Property names are a contract:
/// they bind by name to the module's other cmdlets (PciAddress) and users' scripts read them.
/// </summary>
public sealed class VirtualFunction
{
    /// <summary><c>DDDD:BB:SS.F</c> of the VF.</summary>
    public string PciAddress { get; internal set; } = "";

    /// <summary>The PF's address.</summary>
    public string PhysicalFunction { get; internal set; } = "";

    /// <summary>N of the PF's <c>virtfnN</c> link: the index <c>ip link set dev &lt;pf&gt; vf N</c> takes.</summary>
    public int Index { get; internal set; }

    public string? VendorId { get; internal set; }

    public string? DeviceId { get; internal set; }

    public string? Driver { get; internal set; }

    public string? DriverOverride { get; internal set; }

    public int? IommuGroup { get; internal set; }

    /// <summary>The processes holding the VF's <c>/dev/vfio/&lt;group&gt;</c> open; empty when none.</summary>
    public VfioUser[] InUse { get; internal set; } = PciDevice.NoUsers;

    /// <summary>The VF's own network interface (a host VF driver such as iavf or igbvf), or null.</summary>
    public string? NetworkInterface { get; internal set; }

    /// <summary>The PF's network interface, the one <c>ip link set dev ... vf N</c> names; null when the PF has none.</summary>
    public string? PhysicalFunctionInterface { get; internal set; }

    /// <summary>With -IncludeNetworkConfiguration: the VF's admin MAC address, as <c>ip -j -d link</c> reports it.</summary>
    public string? MacAddress { get; internal set; }

    /// <summary>The VF's VLAN ID; null when not configured (ip omits VLAN 0) or not read.</summary>
    public int? VlanId { get; internal set; }

    /// <summary>The 802.1p priority of the VLAN; null when not set or not read.</summary>
    public int? VlanQos { get; internal set; }

    /// <summary><c>802.1Q</c> or <c>802.1ad</c>; null when not reported.</summary>
    public string? VlanProtocol { get; internal set; }

    /// <summary>MAC spoof checking; null when the driver does not report it or it was not read.</summary>
    public bool? SpoofCheck { get; internal set; }

    /// <summary>Trusted mode; null when the driver does not report it or it was not read.</summary>
    public bool? Trust { get; internal set; }

    /// <summary>The administrative link state; null when not read.</summary>
    public VirtualFunctionLinkState? LinkState { get; internal set; }

    /// <summary>The maximum transmit rate in Mbit/s (0 = unlimited); null when not read.</summary>
    public int? MaxTxRateMbps { get; internal set; }

    /// <summary>The minimum (guaranteed) transmit rate in Mbit/s (0 = none); null when not read.</summary>
    public int? MinTxRateMbps { get; internal set; }

    /// <summary>The host root the VF was read from.</summary>
    public string Root { get; internal set; } = "/";

    public override string ToString() => PciAddress;
}

/// <summary>A VF's administrative link state (<c>ip link set ... vf N state auto|enable|disable</c>).</summary>
public enum VirtualFunctionLinkState
{
    /// <summary>The VF's link follows the PF's.</summary>
    Auto,

    /// <summary>Always up, whatever the PF's link.</summary>
    Enable,

    /// <summary>Always down.</summary>
    Disable,
}
