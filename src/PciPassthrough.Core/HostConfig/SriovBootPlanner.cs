using System.Globalization;
using PciPassthrough.Host;
using PciPassthrough.Sriov;

namespace PciPassthrough.HostConfig;

/// <summary>
/// Works out the boot-time SR-IOV entries of a Set-VfioHostConfiguration call: the PFs already in the file stay
/// unless removed or given again; each PF named gets its ids now, its count, autoprobe, and the admin attributes
/// its VFs have now (read with ip), so that the boot recreates what the host runs with.
/// </summary>
internal static class SriovBootPlanner
{
    public static bool Touches(HostConfigurationRequest request) =>
        request.VirtualFunctionCounts.Count > 0 || request.PersistVirtualFunctions || request.RemoveVirtualFunctionCounts.Count > 0;

    /// <summary>The entries to write; <paramref name="warn"/> hears why VF attributes could not be read (no ip, ip failing).</summary>
    public static IReadOnlyList<SriovBootEntry> Plan(HostSession host, HostConfigurationRequest request, Action<string>? warn)
    {
        var entries = SriovBootConfiguration.Read(host.Root).ToDictionary(e => e.PciAddress, StringComparer.Ordinal);
        foreach (var text in request.RemoveVirtualFunctionCounts)
        {
            entries.Remove(PciAddress.TryParse(text, out var a) ? a.ToString() : throw ErrorCatalog.InvalidAddress(text));
        }

        var reader = new VirtualFunctionReader(host) { Ip = request.Ip, IncludeNetworkConfiguration = true };
        if (request.PersistVirtualFunctions)
        {
            // The host as it runs: every PF with VFs now, with its autoprobe as it is.
            foreach (var pf in host.Devices.ReadAll().Where(d => d.SriovRole == SriovRole.PF && d.NumVfs is > 0))
            {
                entries[pf.PciAddress] = Entry(reader, pf, pf.NumVfs!.Value, pf.DriversAutoprobe ?? true);
            }
        }

        foreach (var (text, value) in request.VirtualFunctionCounts)
        {
            var pf = host.Devices.Require(text);
            if (pf.SriovRole != SriovRole.PF)
            {
                throw ErrorCatalog.NotAnSriovPhysicalFunction(pf);
            }

            // The script writes sysfs; NVIDIA supports only its sriov-manage for its GPUs.
            if (pf.VendorId == "10de" && pf.Driver == "nvidia")
            {
                throw ErrorCatalog.NvidiaUseSriovManage(pf);
            }

            var count = string.Equals(value, "max", StringComparison.OrdinalIgnoreCase) ? pf.TotalVfs
                : int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : (int?)null;
            if (count is not int c || (pf.TotalVfs is int total && c > total))
            {
                throw ErrorCatalog.VirtualFunctionCountOutOfRange(pf, $"'{value}'");
            }

            // VFs meant for guests should not bind host drivers first (Set-PciVirtualFunctionCount's default).
            entries[pf.PciAddress] = Entry(reader, pf, c, request.VirtualFunctionDriversAutoprobe ?? false);
        }

        foreach (var warning in reader.Warnings)
        {
            warn?.Invoke(warning + " The VFs' admin attributes are not persisted.");
        }

        return entries.Values.OrderBy(e => e.PciAddress, StringComparer.Ordinal).ToList();
    }

    private static SriovBootEntry Entry(VirtualFunctionReader reader, PciDevice pf, int count, bool autoprobe)
    {
        var pfInterface = reader.PhysicalFunctionInterface(pf);
        var states = pfInterface is null || pf.NumVfs is not > 0 ? null : reader.NetworkStates(pfInterface);
        return new SriovBootEntry
        {
            PciAddress = pf.PciAddress,
            // A PF whose ids could not be read is kept from every card: ffff never matches at boot.
            VendorId = pf.VendorId ?? "ffff",
            DeviceId = pf.DeviceId ?? "ffff",
            NumVfs = count,
            DriversAutoprobe = autoprobe,
            VirtualFunctions = (states?.Values ?? []).Where(s => s.Index < count).Select(SriovBootVirtualFunction.FromState).OfType<SriovBootVirtualFunction>().OrderBy(v => v.Index).ToArray(),
        };
    }
}
