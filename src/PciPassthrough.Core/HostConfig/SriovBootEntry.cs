using System.Globalization;
using PciPassthrough.Sriov;

namespace PciPassthrough.HostConfig;

/// <summary>
/// One PF of the boot-time SR-IOV configuration (/etc/sysconfig/pcipassthrough-sriov): the ids it had when it
/// was configured (a different card at the address is skipped), its VF count, autoprobe, and the VFs' admin
/// attributes to give back after the VFs are created.
/// </summary>
public sealed class SriovBootEntry
{
    public string PciAddress { get; init; } = "";

    public string VendorId { get; init; } = "";

    public string DeviceId { get; init; } = "";

    /// <summary>The VF count written to sriov_numvfs at boot.</summary>
    public int NumVfs { get; init; }

    /// <summary>sriov_drivers_autoprobe, written before the VFs are created (false: no host driver takes them).</summary>
    public bool DriversAutoprobe { get; init; }

    /// <summary>The VFs whose admin attributes are set at boot; VFs at the defaults have no entry.</summary>
    public SriovBootVirtualFunction[] VirtualFunctions { get; init; } = [];

    public override string ToString() => PciAddress;
}

/// <summary>One VF's admin attributes applied at boot (<c>ip link set dev &lt;pf&gt; vf Index ...</c>).</summary>
public sealed class SriovBootVirtualFunction
{
    public int Index { get; init; }

    public VirtualFunctionSettings Settings { get; init; } = new();

    /// <summary>What follows <c>vf N</c> on the ip command line, as the boot script runs it.</summary>
    public string Arguments => string.Join(' ', VirtualFunctionConfigurator.Argv("-", Index, Settings).Skip(6));

    public override string ToString() => $"vf {Index.ToString(CultureInfo.InvariantCulture)} {Arguments}";

    /// <summary>
    /// The attributes of a VF that differ from what a new VF gets (sriov-cni's release defaults), so that a VF
    /// nobody configured has no entry, and the script never sets a rate or a state a driver may not support.
    /// Null when nothing differs.
    /// </summary>
    public static SriovBootVirtualFunction? FromState(VfNetworkState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var mac = state.MacAddress is string m && m.Replace(":", "", StringComparison.Ordinal).Any(c => c != '0') ? m.ToLowerInvariant() : null;
        var vlan = state.VlanId is > 0 ? state.VlanId : null;
        var settings = new VirtualFunctionSettings(
            mac,
            vlan,
            vlan is null ? null : state.VlanQos is > 0 ? state.VlanQos : null,
            vlan is null || state.VlanProtocol is null or "802.1Q" ? null : state.VlanProtocol,
            state.SpoofCheck == false ? false : null,
            state.Trust == true ? true : null,
            state.LinkState is VirtualFunctionLinkState s && s != VirtualFunctionLinkState.Auto ? s : null,
            state.MaxTxRateMbps is > 0 ? state.MaxTxRateMbps : null,
            state.MinTxRateMbps is > 0 ? state.MinTxRateMbps : null);
        return settings == new VirtualFunctionSettings() ? null : new SriovBootVirtualFunction { Index = state.Index, Settings = settings };
    }
}
