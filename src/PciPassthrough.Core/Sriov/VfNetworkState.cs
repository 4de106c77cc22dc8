using System.Text.Json;

namespace PciPassthrough.Sriov;

/// <summary>
/// One VF's admin network configuration as <c>ip -j -d link show dev &lt;pf&gt;</c> prints it (iproute2
/// ip/ipaddress.c print_vfinfo): VLAN 0 and QoS 0 are omitted, spoofchk and trust are omitted when the driver
/// reports -1 (unsupported), the protocol only when it is not 802.1Q, and old kernels give tx_rate instead of
/// rate. Every member is therefore optional.
/// </summary>
public sealed record VfNetworkState(
    int Index,
    string? MacAddress,
    int? VlanId,
    int? VlanQos,
    string? VlanProtocol,
    bool? SpoofCheck,
    bool? Trust,
    VirtualFunctionLinkState? LinkState,
    int? MaxTxRateMbps,
    int? MinTxRateMbps)
{
    /// <summary>The VFs of the first link in the JSON, by index; empty when it lists none. Throws JsonException on malformed JSON.</summary>
    public static IReadOnlyDictionary<int, VfNetworkState> Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var result = new Dictionary<int, VfNetworkState>();
        var link = doc.RootElement.ValueKind == JsonValueKind.Array && doc.RootElement.GetArrayLength() > 0 ? doc.RootElement[0] : doc.RootElement;
        if (link.ValueKind != JsonValueKind.Object || !link.TryGetProperty("vfinfo_list", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            return result;
        }

        foreach (var vf in list.EnumerateArray())
        {
            if (Int(vf, "vf") is not int index)
            {
                continue;
            }

            // vlan_list (kernels with IFLA_VF_VLAN_LIST) holds one entry; older ones put vlan/qos on the VF itself.
            var vlan = vf.TryGetProperty("vlan_list", out var vlans) && vlans.ValueKind == JsonValueKind.Array && vlans.GetArrayLength() > 0 ? vlans[0] : vf;
            var vlanId = Int(vlan, "vlan");
            var rate = vf.TryGetProperty("rate", out var r) && r.ValueKind == JsonValueKind.Object ? r : default;
            result[index] = new VfNetworkState(
                index,
                Text(vf, "address"),
                vlanId,
                Int(vlan, "qos"),
                Text(vlan, "protocol") ?? (vlanId is null ? null : "802.1Q"),
                Bool(vf, "spoofchk"),
                Bool(vf, "trust"),
                Text(vf, "link_state") switch
                {
                    "auto" => VirtualFunctionLinkState.Auto,
                    "enable" => VirtualFunctionLinkState.Enable,
                    "disable" => VirtualFunctionLinkState.Disable,
                    _ => null,
                },
                (rate.ValueKind == JsonValueKind.Object ? Int(rate, "max_tx") : null) ?? Int(vf, "tx_rate"),
                rate.ValueKind == JsonValueKind.Object ? Int(rate, "min_tx") : null);
        }

        return result;
    }

    private static int? Int(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : null;

    private static bool? Bool(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    private static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
