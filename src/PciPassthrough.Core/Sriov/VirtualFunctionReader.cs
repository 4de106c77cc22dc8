using System.Text.RegularExpressions;
using PciPassthrough.Host;
using PciPassthrough.Sysfs;

namespace PciPassthrough.Sriov;

/// <summary>
/// The VFs of a host, from the PFs' <c>virtfnN</c> links and the VFs' own device directories, through the
/// session's device reader (so ids, driver, group and guests are read as Get-PciDevice reads them).
/// </summary>
public sealed partial class VirtualFunctionReader(HostSession host)
{
    private readonly Dictionary<string, IReadOnlyDictionary<int, VfNetworkState>?> _network = new(StringComparer.Ordinal);

    private PciDeviceReader Devices => host.Devices;

    /// <summary>
    /// Also read each VF's admin network configuration, from <c>ip -j -d link show dev &lt;pf interface&gt;</c> (one
    /// call per PF). Null members stay null when the PF has no interface, <paramref name="Ip"/> is null, or ip fails.
    /// </summary>
    public IpCommand? Ip { get; init; }

    public bool IncludeNetworkConfiguration { get; init; }

    /// <summary>What could not be read (ip missing or failing, its JSON malformed), one sentence each.</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>Every VF of every PF, PFs in lspci's order, VFs in index order.</summary>
    public IEnumerable<VirtualFunction> ReadAll(CancellationToken cancel = default)
    {
        foreach (var pf in Devices.ReadAll(cancel: cancel).Where(d => d.SriovRole == SriovRole.PF).ToList())
        {
            foreach (var vf in OfPhysicalFunction(pf))
            {
                yield return vf;
            }
        }
    }

    /// <summary>
    /// The VFs an address names: all VFs of a PF, or the VF itself. InvalidPciAddress, PciDeviceNotFound, or
    /// NotAnSriovPhysicalFunction for a device that is neither (or a VF when <paramref name="physicalFunctionOnly"/>).
    /// </summary>
    public IReadOnlyList<VirtualFunction> Resolve(string text, bool physicalFunctionOnly = false)
    {
        var device = Devices.Require(text);
        return device.SriovRole switch
        {
            SriovRole.PF => OfPhysicalFunction(device).ToList(),
            SriovRole.VF when !physicalFunctionOnly => [Of(device)],
            _ => throw ErrorCatalog.NotAnSriovPhysicalFunction(device, physicalFunctionOnly ? "" : " nor a virtual function"),
        };
    }

    /// <summary>The PF's VFs, in index order; a VF that vanished meanwhile is skipped.</summary>
    public IEnumerable<VirtualFunction> OfPhysicalFunction(PciDevice pf)
    {
        var pfInterface = PhysicalFunctionInterface(pf);
        for (var i = 0; i < pf.VirtualFunctions.Length; i++)
        {
            if (Devices.Read(PciAddress.Parse(pf.VirtualFunctions[i])) is { } vf)
            {
                yield return Build(vf, pf.PciAddress, i, pfInterface);
            }
        }
    }

    /// <summary>One VF, with its PF found through its physfn link.</summary>
    public VirtualFunction Of(PciDevice vf)
    {
        var pf = vf.PhysicalFunction is string p && PciAddress.TryParse(p, out var a) ? Devices.Read(a) : null;
        var index = pf is null ? -1 : Array.IndexOf(pf.VirtualFunctions, vf.PciAddress);
        return Build(vf, vf.PhysicalFunction ?? "", index, pf is null ? null : PhysicalFunctionInterface(pf));
    }

    /// <summary>
    /// The PF netdev that <c>ip link set dev &lt;pf&gt; vf N</c> names. With several (a switchdev uplink and its
    /// representors), the port's own one: phys_port_name <c>pN</c>, as OpenNebula's vf.rb chooses it.
    /// </summary>
    public string? PhysicalFunctionInterface(PciDevice pf)
    {
        if (pf.NetworkInterfaces.Length <= 1)
        {
            return pf.NetworkInterfaces.FirstOrDefault();
        }

        return pf.NetworkInterfaces.FirstOrDefault(n => host.Root.TryReadText($"{PciDeviceReader.DevicesPath}/{pf.PciAddress}/net/{n}/phys_port_name")?.Trim() is string port && PortName().IsMatch(port))
            ?? pf.NetworkInterfaces[0];
    }

    /// <summary>The VFs' network states of a PF interface, read once per reader; null when they cannot be read.</summary>
    public IReadOnlyDictionary<int, VfNetworkState>? NetworkStates(string pfInterface)
    {
        if (_network.TryGetValue(pfInterface, out var cached))
        {
            return cached;
        }

        IReadOnlyDictionary<int, VfNetworkState>? states = null;
        if (Ip is null)
        {
            Warnings.Add(host.Root.IsLiveHost
                ? "The VF network configuration cannot be read: there is no 'ip' (iproute2) on PATH."
                : $"The VF network configuration cannot be read under '{host.Root.Path}': only an 'ip' outside the system directories of PATH is run for a captured tree.");
        }
        else
        {
            var (exit, output, error) = Ip.Run(["-j", "-d", "link", "show", "dev", pfInterface], TimeSpan.FromSeconds(30));
            try
            {
                states = exit == 0 ? VfNetworkState.Parse(output) : null;
                if (exit != 0)
                {
                    Warnings.Add($"'ip -j -d link show dev {pfInterface}' failed ({exit}): {error.Trim()}");
                }
            }
            catch (System.Text.Json.JsonException e)
            {
                Warnings.Add($"'ip -j -d link show dev {pfInterface}' printed no JSON the module understands: {e.Message}");
            }
        }

        _network[pfInterface] = states;
        return states;
    }

    private VirtualFunction Build(PciDevice vf, string pf, int index, string? pfInterface)
    {
        var built = Plain(vf, pf, index, pfInterface);
        if (IncludeNetworkConfiguration && pfInterface is not null && NetworkStates(pfInterface) is { } states && states.TryGetValue(index, out var n))
        {
            built.MacAddress = n.MacAddress;
            built.VlanId = n.VlanId;
            built.VlanQos = n.VlanQos;
            built.VlanProtocol = n.VlanProtocol;
            built.SpoofCheck = n.SpoofCheck;
            built.Trust = n.Trust;
            built.LinkState = n.LinkState;
            built.MaxTxRateMbps = n.MaxTxRateMbps;
            built.MinTxRateMbps = n.MinTxRateMbps;
        }

        return built;
    }

    private VirtualFunction Plain(PciDevice vf, string pf, int index, string? pfInterface) => new()
    {
        PciAddress = vf.PciAddress,
        PhysicalFunction = pf,
        Index = index,
        VendorId = vf.VendorId,
        DeviceId = vf.DeviceId,
        Driver = vf.Driver,
        DriverOverride = vf.DriverOverride,
        IommuGroup = vf.IommuGroup,
        InUse = vf.InUse,
        NetworkInterface = vf.NetworkInterfaces.FirstOrDefault(),
        PhysicalFunctionInterface = pfInterface,
        Root = host.Root.Path,
    };

    [GeneratedRegex("^p[0-9]+$")]
    private static partial Regex PortName();
}
