using System.Globalization;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.OpenNebula.Probe;
using PciPassthrough.Vfio;

namespace PciPassthrough.Sysfs;

/// <summary>
/// Reads the PCI devices of a host from <c>&lt;root&gt;/sys/bus/pci/devices</c>. A device's odd content
/// (a missing optional file, garbage, a dangling link) leaves that property null and adds a
/// diagnostic; a device directory that vanishes mid-scan is skipped. Nothing here writes.
/// </summary>
public sealed partial class PciDeviceReader
{
    public const string DevicesPath = "/sys/bus/pci/devices";
    private const int NvidiaVendorId = 0x10de;

    private readonly HostRoot _root;
    private readonly PciIdDatabase _names;
    private readonly PciDeviceReadOptions _options;
    private readonly List<string> _diagnostics = [];
    private readonly StringPool _pool = new();
    private readonly Lazy<VfioHolders> _vfioUsers;
    private readonly Lazy<IReadOnlyDictionary<string, LibvirtAssignment[]>> _assignments;
    private readonly Lazy<bool> _hwdb;
    private NativeDirectory? _devicesDir;
    private NativeDirectory? _mdevParents;
    private bool _scanning;
    private (byte[] Link, string Address)? _lastPhysicalFunction;

    /// <summary>The pci.ids the reader names devices from.</summary>
    public PciIdDatabase Names => _names;

    public PciDeviceReader(HostRoot root, PciIdDatabase names)
        : this(root, names, PciDeviceReadOptions.All)
    {
    }

    /// <summary>A reader that reads only what <paramref name="options"/> ask for (see <see cref="PciDeviceReadOptions"/>).</summary>
    public PciDeviceReader(HostRoot root, PciIdDatabase names, PciDeviceReadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _root = root;
        _names = names;
        _options = options;
        _vfioUsers = new(() => VfioUsageScanner.Scan(_root)); // thread-safe: the scan's workers share it
        _assignments = new(() => Libvirt.LibvirtDomainDefinitions.NotRunning(_root));
        _hwdb = new(() => UdevHwdb.IsPresent(_root)); // per root, so the shared pci.ids stays as parsed
    }

    /// <summary>A reader of the same tree and names that has cached nothing yet (which guests hold which group).</summary>
    public PciDeviceReader Fresh() => new(_root, _names, _options);

    /// <summary>What could not be read, one sentence per problem, for verbose or warning output.</summary>
    public IReadOnlyList<string> Diagnostics => _diagnostics;

    /// <summary>The device addresses present, in lspci's order. Throws when the tree has no PCI bus.</summary>
    public IReadOnlyList<PciAddress> ListAddresses()
    {
        var dir = _root.Resolve(DevicesPath);
        var addresses = new List<PciAddress>();
        if (ListAddressesNatively(dir, addresses))
        {
            addresses.Sort();
            return addresses;
        }

        try
        {
            // Names are parsed as spans: no path string per device on hosts with thousands of VFs.
            var entries = new System.IO.Enumeration.FileSystemEnumerable<(PciAddress Address, string? Odd)>(
                dir,
                (ref System.IO.Enumeration.FileSystemEntry e) => PciAddress.TryParseCanonical(e.FileName, out var a) ? (a, null) : (default, e.FileName.ToString()),
                new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false, RecurseSubdirectories = false });
            foreach (var (a, odd) in entries)
            {
                if (odd is null)
                {
                    addresses.Add(a);
                }
                else
                {
                    _diagnostics.Add($"Ignored '{dir}/{odd}': not a PCI device name.");
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ErrorCatalog.SysfsUnreadable(dir, _root.IsLiveHost, e);
        }

        addresses.Sort();
        return addresses;
    }

    // readdir, without the stat .NET's enumeration makes per entry (every device folder is a link); false when the
    // folder cannot be listed that way, for the managed listing to fail with its own words.
    private bool ListAddressesNatively(string dir, List<PciAddress> addresses)
    {
        using var native = NativeDirectory.Open(dir);
        var odd = new List<string>();
        var listed = native is not null && native.ForEachEntry((name, notFolder) =>
        {
            Span<char> chars = stackalloc char[512];
            var text = chars[..System.Text.Encoding.UTF8.GetChars(name, chars)];
            // A plain file with a device's name is no device (D22): the kernel makes every entry a link.
            if (!notFolder && PciAddress.TryParseCanonical(text, out var a))
            {
                addresses.Add(a);
            }
            else
            {
                odd.Add(text.ToString());
            }
        });
        if (!listed)
        {
            addresses.Clear();
            return false;
        }

        foreach (var name in odd)
        {
            _diagnostics.Add($"Ignored '{dir}/{name}': not a PCI device name.");
        }

        return true;
    }

    /// <summary>Reads every device in lspci's order, calling <paramref name="progress"/> after each.</summary>
    public IEnumerable<PciDevice> ReadAll(Action<int, int>? progress = null, CancellationToken cancel = default)
    {
        var addresses = ListAddresses();
        _devicesDir = NativeDirectory.Open(_root.Resolve(DevicesPath));
        _mdevParents = _options.VgpuFramework ? NativeDirectory.Open(_root.Resolve(Mdev.MediatedDeviceReader.ParentsPath)) : null;
        _scanning = true;
        try
        {
            var done = 0;
            foreach (var device in ScanWorkers(addresses.Count) > 1 ? ReadInParallel(addresses, cancel) : ReadInOrder(addresses, cancel))
            {
                progress?.Invoke(++done, addresses.Count);
                if (device is not null)
                {
                    yield return device;
                }
            }
        }
        finally
        {
            _scanning = false;
            _mdevParents?.Dispose();
            _mdevParents = null;
            _devicesDir?.Dispose();
            _devicesDir = null;
        }
    }

    private IEnumerable<PciDevice?> ReadInOrder(IReadOnlyList<PciAddress> addresses, CancellationToken cancel)
    {
        foreach (var address in addresses)
        {
            cancel.ThrowIfCancellationRequested();
            yield return Read(address);
        }
    }

    /// <summary>
    /// The device an address names, for cmdlets that take addresses: InvalidPciAddress for text that is
    /// no address, PciDeviceNotFound for an address with no device, both with the text as target.
    /// </summary>
    public PciDevice Require(string text)
    {
        if (!PciAddress.TryParse(text, out var address))
        {
            throw ErrorCatalog.InvalidAddress(text);
        }

        return Read(address) ?? throw ErrorCatalog.DeviceNotFound(text, _root.Path);
    }

    /// <summary>True when the host has a device directory at this address.</summary>
    public bool Exists(PciAddress address) => Directory.Exists(_root.Resolve(DevicesPath) + "/" + address);

    /// <summary>Reads one device; null when its directory does not exist (or vanished).</summary>
    public PciDevice? Read(PciAddress address)
    {
        var addressText = address.ToString();
        using var dir = _devicesDir?.OpenChild(addressText) ?? NativeDirectory.Open(_root.Resolve(DevicesPath) + "/" + addressText);
        if (dir is null)
        {
            _diagnostics.Add($"{addressText}: the device directory is gone or unreadable; skipped.");
            return null;
        }

        var d = new PciDevice
        {
            PciAddress = addressText,
            ShortAddress = addressText[^7..],
            Domain = address.DomainNumber <= 0xffff ? _pool.Hex4(address.DomainNumber) : address.DomainNumber.ToString("x", CultureInfo.InvariantCulture),
            Bus = SysfsValues.TwoHex(address.BusNumber),
            Slot = SysfsValues.TwoHex(address.SlotNumber),
            Function = address.FunctionNumber.ToString(CultureInfo.InvariantCulture),
            Root = _root.Path,
        };

        Span<byte> buf = stackalloc byte[256];
        var ids = ReadUevent(dir);
        var vendor = ids.Vendor ?? ReadHex(dir, "vendor\0"u8, 0xffff, buf, d, "vendor");
        var device = ids.Device ?? ReadHex(dir, "device\0"u8, 0xffff, buf, d, "device");
        var classCode = ids.ClassCode ?? ReadHex(dir, "class\0"u8, 0xffffff, buf, d, "class");
        var subVendor = _options.Subsystem ? ids.SubsystemVendor ?? ReadHex(dir, "subsystem_vendor\0"u8, 0xffff, buf, null, null) : null;
        var subDevice = _options.Subsystem ? ids.SubsystemDevice ?? ReadHex(dir, "subsystem_device\0"u8, 0xffff, buf, null, null) : null;
        var revision = _options.HeaderType ? ReadHex(dir, "revision\0"u8, 0xff, buf, null, null) : null;
        var header = _options.HeaderType ? ReadHeaderType(dir) : (null, null);
        revision ??= header.Revision;

        d.VendorId = vendor is int v ? _pool.Hex4(v) : null;
        d.DeviceId = device is int dv ? _pool.Hex4(dv) : null;
        d.SubsystemVendorId = subVendor is int sv ? _pool.Hex4(sv) : null;
        d.SubsystemId = subDevice is int sd ? _pool.Hex4(sd) : null;
        d.Revision = revision is int r ? SysfsValues.TwoHex(r) : null;
        if (classCode is int cc)
        {
            d.ClassCode = _pool.Hex6(cc);
            d.Class = _pool.Hex4(cc >> 8);
            d.ProgIf = SysfsValues.TwoHex(cc);
            d.ClassName = PciNames.Class(_names, cc >> 16, (cc >> 8) & 0xff);
        }

        if (vendor is int vv && device is int ddv)
        {
            d.VendorName = PciNames.Vendor(_names, vv);
            d.DeviceName = PciNames.Device(_names, vv, ddv);
            if (classCode is int tc)
            {
                d.Type = _pool.Type(vv, ddv, tc >> 8);
            }

            if (subVendor is int ssv && ssv != 0 && ssv != 0xffff && subDevice is int ssd)
            {
                d.SubsystemVendorName = PciNames.SubsystemVendor(_names, ssv);
                d.SubsystemName = PciNames.Subsystem(_names, vv, ddv, ssv, ssd, _hwdb.Value);
            }
        }

        d.HeaderType = header.Type;
        d.IsBridge = header.Type is 1 or 2;
        d.IsEndpoint = header.Type == 0;

        d.Driver = _options.Driver ? ReadLinkName(dir, "driver\0"u8, buf) : null;
        d.DriverOverride = _options.DriverOverride ? ReadDriverOverride(dir, buf) : null;
        var groupLength = _options.IommuGroup ? dir.ReadLink("iommu_group\0"u8, buf) : -1;
        if (groupLength > 0)
        {
            var group = SysfsValues.LastSegment(buf[..groupLength]);
            d.IommuGroup = SysfsValues.ParseNumber(group);
            if (d.IommuGroup is null)
            {
                _diagnostics.Add($"{addressText}: iommu_group link '{System.Text.Encoding.UTF8.GetString(group)}' is not a group number.");
            }
        }

        var numaLength = dir.ReadFile("numa_node\0"u8, buf);
        var numa = numaLength <= 0 ? null : SysfsValues.ParseDecimal(buf[..numaLength]);
        d.NumaNode = numa is >= 0 ? numa : null;
        var numaText = _options.ProbeFacts && numaLength >= 0 ? ProbeText(buf[..numaLength], numaLength == buf.Length, d, "numa_node") : null;
        d.LocalCpuList = _options.LocalCpuList ? ReadText(dir, "local_cpulist\0"u8, buf) : null;
        // The kernel makes boot_vga only for VGA-class devices (pci_is_vga: 0300 and the pre-2.0 0001): no failed open on the others.
        d.BootVga = _options.BootVga && MayBeVga(classCode) && ReadDecimal(dir, "boot_vga\0"u8, buf) == 1;

        ReadSriov(dir, d, buf);
        if (_options.Reset)
        {
            ReadReset(dir, d, buf);
        }

        d.NetworkInterfaces = NetworkInterfaceNames(dir, d, out var netFolder);
        if (_options.VgpuFramework)
        {
            // Only NVIDIA's driver makes the nvidia/ folder: other vendors' devices skip the failed lookup.
            d.VgpuFramework = IsMdevParent(addressText) ? VgpuFramework.Mdev
                : vendor is null or NvidiaVendorId && dir.Exists("nvidia\0"u8) ? VgpuFramework.NvidiaVendor
                : VgpuFramework.None;
        }

        if (_options.ProbeFacts)
        {
            d.Probe = ReadProbeFacts(dir, d, buf, numaText, netFolder ? d.NetworkInterfaces : PciDevice.NoStrings);
        }

        if (_options.InUse)
        {
            var holders = _vfioUsers.Value;
            d.InUse = holders.For(d.IommuGroup, d.PciAddress);
            d.Usage = holders.UsageOf(d.InUse);
            d.AssignedNotRunning = _assignments.Value.TryGetValue(d.PciAddress, out var defined) ? defined : PciDevice.NoAssignments;
        }

        return d;
    }

    // The kernel makes boot_vga only for VGA-class devices (pci_is_vga: class 0300, and 0001 from before PCI 2.0).
    private static bool MayBeVga(int? classCode) => classCode is not int cc || (cc >> 8) is 0x0300 or 0x0001;

    // During a scan the mdev_bus folder is opened once (or found missing once) instead of three lookups by path per device.
    private bool IsMdevParent(string address)
    {
        if (!_scanning)
        {
            return _root.Exists($"{Mdev.MediatedDeviceReader.ParentsPath}/{address}");
        }

        if (_mdevParents is null)
        {
            return false;
        }

        Span<byte> name = stackalloc byte[64];
        var n = System.Text.Encoding.UTF8.GetBytes(address, name[..^1]);
        name[n] = 0;
        return _mdevParents.Exists(name[..(n + 1)]);
    }

    private int? ReadHex(NativeDirectory dir, ReadOnlySpan<byte> file, int max, Span<byte> buf, PciDevice? required, string? label)
    {
        var n = dir.ReadFile(file, buf);
        if (n < 0)
        {
            if (required is not null)
            {
                _diagnostics.Add($"{required.PciAddress}: cannot read '{label}'.");
            }

            return null;
        }

        var value = SysfsValues.ParseHex(buf[..n], max);
        if (value is null && n > 0 && required is not null)
        {
            _diagnostics.Add($"{required.PciAddress}: '{label}' holds no valid value.");
        }

        return value;
    }

    private static int? ReadDecimal(NativeDirectory dir, ReadOnlySpan<byte> file, Span<byte> buf)
    {
        var n = dir.ReadFile(file, buf);
        return n <= 0 ? null : SysfsValues.ParseDecimal(buf[..n]);
    }

    private string? ReadText(NativeDirectory dir, ReadOnlySpan<byte> file, Span<byte> buf)
    {
        var n = dir.ReadFile(file, buf);
        if (n <= 0)
        {
            return null;
        }

        var text = SysfsValues.Trim(buf[..n]);
        return text.IsEmpty || !SysfsValues.IsPrintable(text) ? null : _pool.Text(text);
    }

    private string? ReadDriverOverride(NativeDirectory dir, Span<byte> buf)
    {
        var text = ReadText(dir, "driver_override\0"u8, buf);
        return text is null or "(null)" ? null : text;
    }

    private string? ReadLinkName(NativeDirectory dir, ReadOnlySpan<byte> link, Span<byte> buf)
    {
        var n = dir.ReadLink(link, buf);
        if (n <= 0)
        {
            return null;
        }

        var name = SysfsValues.LastSegment(buf[..n]);
        return name.IsEmpty || !SysfsValues.IsPrintable(name) ? null : _pool.Text(name);
    }

    // Config space byte 0x0e holds the header type (low 7 bits; bit 7 flags a multi-function device)
    // and byte 0x08 the revision. An unprivileged reader still gets the first 64 bytes.
    private static (int? Type, int? Revision) ReadHeaderType(NativeDirectory dir)
    {
        Span<byte> config = stackalloc byte[64];
        var n = dir.ReadFile("config\0"u8, config);
        return n < 0x0f ? (null, null) : (config[0x0e] & 0x7f, config[0x08]);
    }

    private static readonly string[] UnknownMethods = ["unknown"];

    // reset_method (5.15+) lists the enabled methods; older kernels only have reset.
    private void ReadReset(NativeDirectory dir, PciDevice d, Span<byte> buf)
    {
        var hasReset = dir.Exists("reset\0"u8);
        var n = dir.ReadFile("reset_method\0"u8, buf);
        if (n < 0)
        {
            d.ResetMethods = hasReset ? UnknownMethods : PciDevice.NoStrings;
            d.CanReset = hasReset;
            return;
        }

        var text = SysfsValues.Trim(buf[..n]);
        if (text.IsEmpty || !SysfsValues.IsPrintable(text))
        {
            d.ResetMethods = PciDevice.NoStrings;
            d.CanReset = false;
            return;
        }

        d.ResetMethods = _pool.Text(text).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        d.CanReset = hasReset;
    }

    // physfn first: on an SR-IOV host most devices are VFs, and they have no sriov_* files to fail on.
    private void ReadSriov(NativeDirectory dir, PciDevice d, Span<byte> buf)
    {
        var physfnLength = dir.ReadLink("physfn\0"u8, buf);
        if (physfnLength > 0)
        {
            d.SriovRole = SriovRole.VF;
            d.PhysicalFunction = PhysicalFunctionAddress(SysfsValues.LastSegment(buf[..physfnLength]));
            return;
        }

        var total = ReadDecimal(dir, "sriov_totalvfs\0"u8, buf);
        if (total is null && !dir.Exists("sriov_numvfs\0"u8))
        {
            return;
        }

        d.SriovRole = SriovRole.PF;
        d.TotalVfs = total;
        d.NumVfs = ReadDecimal(dir, "sriov_numvfs\0"u8, buf);
        d.DriversAutoprobe = ReadDecimal(dir, "sriov_drivers_autoprobe\0"u8, buf) switch { 0 => false, 1 => true, _ => null };
        d.VfOffset = ReadDecimal(dir, "sriov_offset\0"u8, buf);
        d.VfStride = ReadDecimal(dir, "sriov_stride\0"u8, buf);
        d.VfDeviceId = ReadHex(dir, "sriov_vf_device\0"u8, 0xffff, buf, null, null) is int vfDevice ? _pool.Hex4(vfDevice) : null;
        if (!_options.VirtualFunctions)
        {
            return;
        }

        var vfs = new List<string>();
        Span<byte> name = stackalloc byte[24];
        "virtfn"u8.CopyTo(name);
        for (var i = 0; i < 4096; i++)
        {
            i.TryFormat(name[6..], out var digits, provider: CultureInfo.InvariantCulture);
            name[6 + digits] = 0;
            var length = dir.ReadLink(name[..(7 + digits)], buf);
            if (length <= 0)
            {
                break;
            }

            if (SysfsValues.TryParseAddress(SysfsValues.LastSegment(buf[..length]), out var vf))
            {
                vfs.Add(vf.ToString());
            }
        }

        d.VirtualFunctions = vfs.Count == 0 ? PciDevice.NoStrings : vfs.ToArray();
    }

    // The VFs of one PF come one after another: reuse the PF's address string while the link repeats.
    private string? PhysicalFunctionAddress(ReadOnlySpan<byte> link)
    {
        if (_lastPhysicalFunction is { } last && link.SequenceEqual(last.Link))
        {
            return last.Address;
        }

        if (!SysfsValues.TryParseAddress(link, out var pf))
        {
            return null;
        }

        var address = pf.ToString();
        _lastPhysicalFunction = (link.ToArray(), address);
        return address;
    }

    // pci.rb's view, as PciProbe reads it by path for a device read without these facts: existence checks where
    // it checks existence, and raw text (not the parsed numbers) where it prints or converts text.
    private ProbeFacts ReadProbeFacts(NativeDirectory dir, PciDevice d, Span<byte> buf, string? numaText, string[] netNames)
    {
        var hasPhysfn = d.SriovRole == SriovRole.VF || dir.Exists("physfn\0"u8);
        var numVfsLength = dir.ReadFile("sriov_numvfs\0"u8, buf);
        var numVfs = numVfsLength >= 0 ? ProbeText(buf[..numVfsLength], numVfsLength == buf.Length, d, "sriov_numvfs") : null;
        var hasSriovFiles = !hasPhysfn && (numVfsLength >= 0 || dir.Exists("sriov_numvfs\0"u8) || dir.Exists("sriov_totalvfs\0"u8));
        return new ProbeFacts { NumaNode = numaText, HasPhysfn = hasPhysfn, HasSriovFiles = hasSriovFiles, NumVfs = numVfs, NetNames = netNames };
    }

    // The text the probe would get from File.ReadAllText(path).Trim(): from the bytes read when they are plain
    // ASCII, else (or when the buffer may have cut the file) by path.
    private string? ProbeText(ReadOnlySpan<byte> raw, bool truncated, PciDevice d, string file) =>
        ProbeFacts.TryTrimmedAscii(raw, truncated, out var trimmed)
            ? _pool.Text(trimmed)
            : _root.TryReadText($"{DevicesPath}/{d.PciAddress}/{file}")?.Trim();

    // A NIC's interfaces sit in <dev>/net/; virtio-net puts them one level deeper (<dev>/virtio0/net/).
    // netFolder: whether a net entry exists (then its names, if any, are the interfaces, and virtio children are not searched).
    private string[] NetworkInterfaceNames(NativeDirectory dir, PciDevice d, out bool netFolder)
    {
        var names = dir.ChildNames("net\0"u8, out var missing);
        if (names is not null)
        {
            netFolder = true;
            return names.Length == 0 ? PciDevice.NoStrings : names;
        }

        var virtioNet = d.VendorId == "1af4" && d.Class is not null && d.Class.StartsWith("02", StringComparison.Ordinal);
        netFolder = (!missing || virtioNet) && dir.Exists("net\0"u8); // a file, an unreadable folder, a dangling link
        if (netFolder)
        {
            return ChildNames(_root.Resolve(DevicesPath) + "/" + d.PciAddress + "/net");
        }

        if (!virtioNet)
        {
            return PciDevice.NoStrings;
        }

        var deviceDir = _root.Resolve(DevicesPath) + "/" + d.PciAddress;
        try
        {
            var virtioNames = new List<string>();
            foreach (var child in Directory.EnumerateDirectories(deviceDir, "virtio*"))
            {
                virtioNames.AddRange(ChildNames(child + "/net"));
            }

            return virtioNames.Count == 0 ? PciDevice.NoStrings : virtioNames.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return PciDevice.NoStrings;
        }
    }

    private static string[] ChildNames(string dir)
    {
        try
        {
            if (!Directory.Exists(dir))
            {
                return PciDevice.NoStrings;
            }

            var names = Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).OfType<string>().ToArray();
            Array.Sort(names, StringComparer.Ordinal);
            return names.Length == 0 ? PciDevice.NoStrings : names;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return PciDevice.NoStrings;
        }
    }
}
