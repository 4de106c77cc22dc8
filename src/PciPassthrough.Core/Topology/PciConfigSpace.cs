using System.Buffers.Binary;

namespace PciPassthrough.Topology;

/// <summary>How much of a device's configuration space the reader could see.</summary>
public enum ConfigSpaceAccess
{
    /// <summary>The <c>config</c> file could not be read at all.</summary>
    Unreadable,

    /// <summary>Only the 64-byte header: what an unprivileged reader gets. No capability list.</summary>
    HeaderOnly,

    /// <summary>The 256 bytes of conventional space: capabilities, but no extended capabilities (no ACS).</summary>
    Conventional,

    /// <summary>The 4096 bytes of PCIe extended space (read as root).</summary>
    Extended,
}

/// <summary>The PCIe capability's device/port type (PCI_EXP_FLAGS_TYPE).</summary>
public enum PciePortType
{
    Endpoint = 0x0,
    LegacyEndpoint = 0x1,
    RootComplexIntegratedEndpoint = 0x9,
    RootComplexEventCollector = 0xa,
    RootPort = 0x4,
    SwitchUpstream = 0x5,
    SwitchDownstream = 0x6,
    PcieToPciBridge = 0x7,
    PciToPcieBridge = 0x8,
}

/// <summary>ACS capability and control bits (PCI_ACS_*), as lspci names them in ACSCap/ACSCtl.</summary>
[Flags]
public enum AcsFeatures
{
    None = 0,
    SrcValid = 0x01,
    TransBlk = 0x02,
    ReqRedir = 0x04,
    CmpltRedir = 0x08,
    UpstreamFwd = 0x10,
    EgressCtrl = 0x20,
    DirectTrans = 0x40,
}

/// <summary>
/// A parsed PCI configuration space: the capability list, the PCIe capability (port type, link, FLR), the
/// power-management and AF capabilities (reset hints) and the ACS extended capability. Parsing never
/// guesses: what lies beyond the readable length is null, and <see cref="Access"/> says how far it went.
/// </summary>
public sealed class PciConfigSpace
{
    public const int AcsCapabilityId = 0x000d;
    private const int PcieCapabilityId = 0x10;
    private const int PmCapabilityId = 0x01;
    private const int AfCapabilityId = 0x13;

    private PciConfigSpace(ConfigSpaceAccess access) => Access = access;

    public ConfigSpaceAccess Access { get; private init; }

    /// <summary>Header type 0..2 (bit 7, multi-function, stripped); null when unreadable.</summary>
    public int? HeaderType { get; private init; }

    public bool MultiFunction { get; private init; }

    /// <summary>Standard capabilities as (ID, offset) in list order; empty when not readable.</summary>
    public IReadOnlyList<(int Id, int Offset)> Capabilities { get; private init; } = [];

    /// <summary>Extended capabilities as (ID, offset) in list order; empty without extended access.</summary>
    public IReadOnlyList<(int Id, int Offset)> ExtendedCapabilities { get; private init; } = [];

    /// <summary>True when the PCIe capability is present; null when the capability list cannot be read.</summary>
    public bool? IsPcie { get; private init; }

    public PciePortType? PortType { get; private init; }

    /// <summary>Link speed code (1 = 2.5 GT/s ... 6 = 64 GT/s) and width from Link Status / Link Capabilities.</summary>
    public int? LinkSpeedCode { get; private init; }

    public int? LinkWidth { get; private init; }

    public int? MaxLinkSpeedCode { get; private init; }

    public int? MaxLinkWidth { get; private init; }

    /// <summary>PCIe Device Capabilities bit 28 (Function Level Reset).</summary>
    public bool? PcieFlr { get; private init; }

    /// <summary>The conventional Advanced Features capability's FLR bit.</summary>
    public bool? AfFlr { get; private init; }

    /// <summary>PM capability PMCSR NoSoftReset: set means a D3hot->D0 transition does not reset the function.</summary>
    public bool? PmNoSoftReset { get; private init; }

    /// <summary>Secondary and subordinate bus of a bridge (type 1 header, bytes 0x19 and 0x1a).</summary>
    public int? SecondaryBus { get; private init; }

    public int? SubordinateBus { get; private init; }

    /// <summary>True when the ACS extended capability exists; null when extended space was not readable.</summary>
    public bool? HasAcs { get; private init; }

    public AcsFeatures? AcsCapability { get; private init; }

    public AcsFeatures? AcsControl { get; private init; }

    public static PciConfigSpace Unreadable { get; } = new(ConfigSpaceAccess.Unreadable);

    /// <summary>Text for a link speed code, as the kernel's current_link_speed prints it.</summary>
    public static string? SpeedText(int? code) => code switch
    {
        1 => "2.5 GT/s PCIe",
        2 => "5.0 GT/s PCIe",
        3 => "8.0 GT/s PCIe",
        4 => "16.0 GT/s PCIe",
        5 => "32.0 GT/s PCIe",
        6 => "64.0 GT/s PCIe",
        _ => null,
    };

    /// <summary>Reads a device's <c>config</c> file (at most 4096 bytes); Unreadable when it cannot be read.</summary>
    public static PciConfigSpace Read(string path)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            var buffer = new byte[4096];
            var total = 0;
            while (total < buffer.Length)
            {
                var n = RandomAccess.Read(handle, buffer.AsSpan(total), total);
                if (n <= 0)
                {
                    break;
                }

                total += n;
            }

            return Parse(buffer.AsSpan(0, total));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Unreadable;
        }
    }

    public static PciConfigSpace Parse(ReadOnlySpan<byte> c)
    {
        if (c.Length < 0x10)
        {
            return Unreadable;
        }

        var access = c.Length >= 4096 ? ConfigSpaceAccess.Extended : c.Length >= 256 ? ConfigSpaceAccess.Conventional : ConfigSpaceAccess.HeaderOnly;
        var headerType = c[0x0e] & 0x7f;
        var bridge = headerType == 1 && c.Length >= 0x1b;
        if (access == ConfigSpaceAccess.HeaderOnly)
        {
            return new PciConfigSpace(access)
            {
                HeaderType = headerType,
                MultiFunction = (c[0x0e] & 0x80) != 0,
                SecondaryBus = bridge ? c[0x19] : null,
                SubordinateBus = bridge ? c[0x1a] : null,
            };
        }

        var caps = new List<(int, int)>();
        var status = BinaryPrimitives.ReadUInt16LittleEndian(c[0x06..]);
        if ((status & 0x10) != 0 && headerType is 0 or 1)
        {
            var offset = c[0x34] & 0xfc;
            var seen = new HashSet<int>();
            while (offset >= 0x40 && offset + 1 < 256 && seen.Add(offset))
            {
                caps.Add((c[offset], offset));
                offset = c[offset + 1] & 0xfc;
            }
        }

        int? Find(int id) => caps.FirstOrDefault(x => x.Item1 == id) is var (i, o) && i == id ? o : null;

        var pcie = Find(PcieCapabilityId);
        PciePortType? portType = null;
        int? speed = null, width = null, maxSpeed = null, maxWidth = null;
        bool? flr = null;
        if (pcie is int p && p + 0x14 <= 256)
        {
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(c[(p + 2)..]);
            portType = (PciePortType)((flags >> 4) & 0xf);
            var devCap = BinaryPrimitives.ReadUInt32LittleEndian(c[(p + 4)..]);
            flr = (devCap & (1u << 28)) != 0;
            var linkCap = BinaryPrimitives.ReadUInt32LittleEndian(c[(p + 0x0c)..]);
            var linkStatus = BinaryPrimitives.ReadUInt16LittleEndian(c[(p + 0x12)..]);
            maxSpeed = (int)(linkCap & 0xf);
            maxWidth = (int)((linkCap >> 4) & 0x3f);
            speed = linkStatus & 0xf;
            width = (linkStatus >> 4) & 0x3f;
        }

        bool? pmNoSoftReset = Find(PmCapabilityId) is int pm && pm + 6 <= 256 ? (BinaryPrimitives.ReadUInt16LittleEndian(c[(pm + 4)..]) & 0x0008) != 0 : null;
        bool? afFlr = Find(AfCapabilityId) is int af && af + 4 <= 256 ? (c[af + 3] & 0x02) != 0 : caps.Count > 0 || (status & 0x10) == 0 ? false : null;

        var ext = new List<(int, int)>();
        bool? hasAcs = null;
        AcsFeatures? acsCap = null, acsCtl = null;
        if (access == ConfigSpaceAccess.Extended && pcie is not null)
        {
            var offset = 0x100;
            var seen = new HashSet<int>();
            while (offset >= 0x100 && offset + 4 <= c.Length && seen.Add(offset))
            {
                var header = BinaryPrimitives.ReadUInt32LittleEndian(c[offset..]);
                if (header == 0 || header == 0xffffffff)
                {
                    break;
                }

                ext.Add(((int)(header & 0xffff), offset));
                offset = (int)(header >> 20) & 0xffc;
            }

            var acs = ext.FirstOrDefault(x => x.Item1 == AcsCapabilityId);
            hasAcs = acs.Item1 == AcsCapabilityId && acs.Item2 + 8 <= c.Length;
            if (hasAcs == true)
            {
                acsCap = (AcsFeatures)(BinaryPrimitives.ReadUInt16LittleEndian(c[(acs.Item2 + 4)..]) & 0x7f);
                acsCtl = (AcsFeatures)(BinaryPrimitives.ReadUInt16LittleEndian(c[(acs.Item2 + 6)..]) & 0x7f);
            }
        }
        else if (access == ConfigSpaceAccess.Conventional && pcie is null)
        {
            hasAcs = false; // a conventional PCI device has no extended space, so no ACS capability
        }

        return new PciConfigSpace(access)
        {
            HeaderType = headerType,
            MultiFunction = (c[0x0e] & 0x80) != 0,
            Capabilities = caps,
            ExtendedCapabilities = ext,
            IsPcie = pcie is not null,
            PortType = portType,
            LinkSpeedCode = speed,
            LinkWidth = width,
            MaxLinkSpeedCode = maxSpeed,
            MaxLinkWidth = maxWidth,
            PcieFlr = flr,
            AfFlr = afFlr,
            PmNoSoftReset = pmNoSoftReset,
            SecondaryBus = bridge ? c[0x19] : null,
            SubordinateBus = bridge ? c[0x1a] : null,
            HasAcs = hasAcs,
            AcsCapability = acsCap,
            AcsControl = acsCtl,
        };
    }
}
