using System.Diagnostics;
using PciPassthrough.Sysfs;
using PciPassthrough.Topology;

namespace PciPassthrough.Reset;

/// <summary>
/// Reset-PciDevice -Subordinate: a secondary bus reset of everything below a bridge through the kernel's
/// <c>reset_subordinate</c> file (Linux 6.13, backported to some stable kernels). Only on request: every
/// device below is reset at once, so each must pass the rules a function reset would apply to it.
/// </summary>
public sealed partial class PciResetter
{
    /// <summary>The devices below a bridge (nested bridges and what lies below them), depth first.</summary>
    public IReadOnlyList<PciDevice> DevicesBelow(PciDevice bridge)
    {
        var topology = PciTopology.Read(_root, _devices, includeAcs: false);
        var node = topology.Find(bridge.PciAddress);
        if (node is null)
        {
            return [];
        }

        return topology.Subtree(node, int.MaxValue).Skip(1)
            .Select(n => _devices.Read(PciAddress.Parse(n.PciAddress)))
            .OfType<PciDevice>()
            .ToList();
    }

    /// <summary>Throws the refusal for a subordinate reset of <paramref name="bridge"/>, or returns the devices it would reset.</summary>
    public IReadOnlyList<PciDevice> CheckSubordinate(PciDevice bridge)
    {
        ArgumentNullException.ThrowIfNull(bridge);
        if (!bridge.IsBridge)
        {
            throw ErrorCatalog.SubordinateOfNonBridge(bridge);
        }

        var below = DevicesBelow(bridge);
        if (below.Where(IsVendorModeVgpuVf).ToList() is { Count: > 0 } vgpus)
        {
            throw ErrorCatalog.SubordinateVgpu(bridge, vgpus);
        }

        if (below.Where(d => d.InUse.Length > 0).ToList() is { Count: > 0 } held)
        {
            throw ErrorCatalog.SubordinateInUse(bridge, held);
        }

        var critical = new[] { bridge }.Concat(below)
            .Select(d => (Device: d, Finding: _rules.HostCritical(d)))
            .Where(x => x.Finding is not null)
            .Select(x => (x.Device, x.Finding!.Name, x.Finding.Detail))
            .ToList();
        if (critical.Count > 0)
        {
            throw ErrorCatalog.SubordinateHostCritical(bridge, critical);
        }

        if (!_root.Exists(SubordinatePath(bridge)))
        {
            throw ErrorCatalog.SubordinateResetNotSupported(bridge);
        }

        return below;
    }

    /// <summary>Resets everything below the bridge (after <see cref="CheckSubordinate"/>): the kernel saves, resets and restores each device and notifies its driver.</summary>
    public ResetResult ResetSubordinate(PciDevice bridge)
    {
        var below = CheckSubordinate(bridge);
        var clock = Stopwatch.StartNew();
        Write(bridge, SubordinatePath(bridge), "1", e => ErrorCatalog.ResetFailed(bridge, ["reset_subordinate"], e));
        return new ResetResult
        {
            PciAddress = bridge.PciAddress,
            MethodsTried = ["bus"],
            Succeeded = true,
            Duration = clock.Elapsed,
            DevicesBelow = below.Select(d => d.PciAddress).ToArray(),
            Message = $"Reset everything below {bridge.PciAddress} (secondary bus reset): {(below.Count == 0 ? "no device" : string.Join(", ", below.Select(d => d.PciAddress)))}.",
            Root = _root.Path,
        };
    }

    private static string SubordinatePath(PciDevice bridge) => $"{PciDeviceReader.DevicesPath}/{bridge.PciAddress}/reset_subordinate";
}
