using System.Globalization;

namespace PciPassthrough.Sriov;

/// <summary>One sysfs write of a plan: the host path and the exact text written.</summary>
public sealed record SysfsWrite(string Path, string Value)
{
    public override string ToString() => $"write '{Value}' to {Path}";
}

/// <summary>
/// What Set-PciVirtualFunctionCount would do to one PF, worked out in full before anything is written (so that
/// -WhatIf shows it): the writes in order, and the VFs that would disappear and appear.
/// </summary>
public sealed class VirtualFunctionCountPlan
{
    public required PciDevice PhysicalFunction { get; init; }

    public int PreviousCount { get; init; }

    public int Count { get; init; }

    /// <summary>The autoprobe value written, or null when sriov_drivers_autoprobe is left as it is.</summary>
    public bool? DriversAutoprobe { get; init; }

    public IReadOnlyList<SysfsWrite> Writes { get; init; } = [];

    /// <summary>The VFs that exist now and go away (all of them when the count changes from a non-zero value).</summary>
    public IReadOnlyList<string> Disappearing { get; init; } = [];

    /// <summary>The VFs the kernel will create, computed from sriov_offset and sriov_stride; empty when those are unknown.</summary>
    public IReadOnlyList<string> Appearing { get; init; } = [];

    public bool ChangesCount => PreviousCount != Count;

    /// <summary>The PF's VFs as read when planning (a blocked write must not read them again: see Holders).</summary>
    internal IReadOnlyList<PciDevice> ExistingVirtualFunctions { get; init; } = [];

    /// <summary>The -WhatIf text: the PF, the count change, every write and the VFs that come and go.</summary>
    public string Describe()
    {
        var pf = PhysicalFunction;
        var head = $"PF {pf.PciAddress} ({pf.Driver ?? "no driver"}{(pf.NetworkInterfaces.Length > 0 ? ", " + string.Join(", ", pf.NetworkInterfaces) : "")}): {PreviousCount} -> {Count} VFs";
        if (Writes.Count == 0)
        {
            return head + ": nothing to write";
        }

        var text = head + ": " + string.Join("; ", Writes.Select(w => w.ToString()));
        if (Disappearing.Count > 0)
        {
            text += $"; VFs {string.Join(", ", Disappearing)} would be removed";
        }

        if (Count > PreviousCount || (ChangesCount && Count > 0))
        {
            text += Appearing.Count > 0
                ? $"; VFs {string.Join(", ", Appearing)} would be created"
                : $"; {Count} VFs would be created (addresses unknown: no sriov_offset/sriov_stride)";
        }

        return text;
    }

    /// <summary>
    /// The addresses of a PF's first <paramref name="count"/> VFs: routing ID = the PF's + offset + stride * index
    /// (PCIe SR-IOV; drivers/pci/iov.c pci_iov_virtfn_bus/devfn). Empty when offset or stride is unknown.
    /// </summary>
    public static IReadOnlyList<string> VfAddresses(PciDevice pf, int count)
    {
        if (pf.VfOffset is not int offset || pf.VfStride is not int stride || !PciAddress.TryParse(pf.PciAddress, out var a))
        {
            return [];
        }

        var pfId = (a.BusNumber << 8) | (a.SlotNumber << 3) | a.FunctionNumber;
        var result = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var id = pfId + offset + (stride * i);
            if (id > 0xffff)
            {
                break;
            }

            result.Add(new PciAddress(a.DomainNumber, id >> 8, (id >> 3) & 0x1f, id & 7).ToString());
        }

        return result;
    }

    internal static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What Set-PciVirtualFunctionCount did to one PF, as read back afterwards.</summary>
public sealed class VirtualFunctionChange
{
    public string PciAddress { get; init; } = "";

    /// <summary>sriov_numvfs before the call.</summary>
    public int PreviousNumVfs { get; init; }

    /// <summary>The VFs enabled now (sriov_numvfs read back; a driver may enable fewer than asked).</summary>
    public int NumVfs { get; init; }

    public bool? DriversAutoprobe { get; init; }

    /// <summary>The VF addresses now, in index order.</summary>
    public string[] VirtualFunctions { get; init; } = [];

    /// <summary>The VFs bound to vfio-pci by -BindToVfio.</summary>
    public string[] BoundToVfio { get; init; } = [];

    public TimeSpan Duration { get; init; }

    public string Root { get; init; } = "/";

    public override string ToString() => PciAddress;
}
