using System.Globalization;
using System.Management.Automation;
using PciPassthrough.OpenNebula.Placement;
using PciPassthrough.PowerShell.Common;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>
/// Host inventories for Find-PciPlacement: from <c>onehost show -x</c> / <c>onehost list -x</c> XML, or from
/// PciDevice objects (live, or deserialized from <c>Invoke-Command -HostName</c>, grouped by PSComputerName).
/// </summary>
[Cmdlet(VerbsData.Import, "PciHostInventory", DefaultParameterSetName = "Input")]
[OutputType(typeof(PciHostInventory))]
public sealed class ImportPciHostInventoryCommand : PSCmdlet
{
    private readonly List<string> _xml = [];
    private readonly Dictionary<string, List<PciHostDevice>> _hosts = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>onehost XML text, whole or in lines.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Xml")]
    [AllowEmptyString]
    public string[] Xml { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = "Path")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>PciDevice objects (live or deserialized), or strings of onehost XML text.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "Input")]
    [ValidateNotNull]
    public PSObject[] InputObject { get; set; } = [];

    /// <summary>The host name of devices that carry no PSComputerName (read on this machine).</summary>
    [Parameter(ParameterSetName = "Input")]
    [ValidateNotNullOrEmpty]
    public string HostName { get; set; } = "localhost";

    /// <summary>The cluster's PCI_FILTER (vendor:device[:class] entries, * = any); a host's own PCI_FILTER wins.</summary>
    [Parameter]
    [AllowEmptyString]
    public string? PciFilter { get; set; }

    /// <summary>The cluster's PCI_SHORT_ADDRESS (slot strings, comma-separated); a host's own wins.</summary>
    [Parameter]
    [AllowEmptyString]
    public string? PciShortAddress { get; set; }

    /// <summary>The cluster's PCI_GPU_PROFILE: the vGPU profile of NVIDIA GPU sections without PROFILE; a host's own wins.</summary>
    [Parameter]
    [AllowEmptyString]
    public string? PciGpuProfile { get; set; }

    protected override void ProcessRecord()
    {
        _xml.AddRange(Xml);
        foreach (var o in InputObject)
        {
            if (o.BaseObject is string text)
            {
                _xml.Add(text);
                continue;
            }

            var host = Property(o, "PSComputerName") ?? HostName;
            try
            {
                // PciAddress since 0.2; Address is what 0.1's objects (saved with Export-Clixml) carry.
                var address = Property(o, "PciAddress") ?? Property(o, "Address");
                var device = PciHostDevice.Create(address, Property(o, "VendorId"), Property(o, "DeviceId"), Property(o, "Class"), VmId(o), NumaNode(o), Property(o, "DeviceName"), $"device {address} of {host}");
                if (!_hosts.TryGetValue(host, out var list))
                {
                    _hosts[host] = list = [];
                }

                list.Add(device);
            }
            catch (PciPassthroughException e)
            {
                WriteError(ErrorRecords.From(e));
            }
        }
    }

    protected override void EndProcessing()
    {
        try
        {
            if (_xml.Count > 0 && _hosts.Count > 0)
            {
                throw ErrorCatalog.MixedHostInventoryInput();
            }

            var filter = new PciHostFilter(PciFilter, PciShortAddress);
            var hosts = ParameterSetName == "Path" ? HostInventoryXml.Read(ReadFile(GetUnresolvedProviderPathFromPSPath(Path)), Path, filter, PciGpuProfile)
                : _xml.Count > 0 ? HostInventoryXml.Read(string.Join("\n", _xml), "XML", filter, PciGpuProfile)
                : _hosts.Select(h => new PciHostInventory(h.Key, null, h.Value).With(filter.IsEmpty ? null : filter, PciGpuProfile)).ToList();
            WriteObject(hosts, enumerateCollection: true);
        }
        catch (PciPassthroughException e)
        {
            ThrowTerminatingError(ErrorRecords.From(e));
        }
    }

    private static string? Property(PSObject o, string name) => o.Properties[name]?.Value?.ToString();

    private static int? NumaNode(PSObject o) =>
        int.TryParse(Property(o, "NumaNode"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;

    // A device a guest holds is used by that VM; one some other process holds is not free either.
    private static int VmId(PSObject o)
    {
        var users = LanguagePrimitives.GetEnumerable(o.Properties["InUse"]?.Value)?.Cast<object>().Select(PSObject.AsPSObject).ToList() ?? [];
        if (users.Count == 0)
        {
            return PciHostDevice.Free;
        }

        return users.Select(u => Property(u, "VmId")).FirstOrDefault(v => v is not null) is string id && int.TryParse(id, NumberStyles.Integer, CultureInfo.InvariantCulture, out var vm)
            ? vm
            : PciHostDevice.HeldOutsideOpenNebula;
    }

    private static string ReadFile(string path)
    {
        try
        {
            return PciPassthrough.HostFs.BoundedFile.ReadText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ErrorCatalog.HostInventoryUnreadable(path, e);
        }
    }
}
