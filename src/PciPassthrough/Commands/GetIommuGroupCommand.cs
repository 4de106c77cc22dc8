using System.Management.Automation;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Iommu;
using PciPassthrough.PowerShell.Common;
using PciPassthrough.PowerShell.Completion;
using PciPassthrough.Sysfs;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>Lists IOMMU groups with their members, viability and /dev/vfio node; from numbers or from devices.</summary>
[Cmdlet(VerbsCommon.Get, "IommuGroup", DefaultParameterSetName = NumberSet)]
[OutputType(typeof(IommuGroup))]
public sealed class GetIommuGroupCommand : PciCmdletBase
{
    private const string NumberSet = "Number";
    private const string AddressSet = "Address";
    private readonly HashSet<(string Root, int Number)> _written = [];
    private (string Root, PciDeviceReader Devices, IommuGroupReader Groups)? _readers;

    /// <summary>Group numbers; all groups when omitted.</summary>
    [Parameter(Position = 0, ParameterSetName = NumberSet, ValueFromPipeline = true)]
    [ValidateNotNullOrEmpty]
    [ValidateRange(0, int.MaxValue)]
    public int[]? Number { get; set; }

    /// <summary>Devices whose groups to list: addresses, or PciDevice objects (bound by their Address).</summary>
    [Parameter(Mandatory = true, ParameterSetName = AddressSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("PciAddress")]
    public string[]? Address { get; set; }

    protected override void ProcessRecord()
    {
        var (rootPath, devices, groups) = ReadersFor(ResolveRoot());
        if (ParameterSetName == AddressSet)
        {
            foreach (var text in Address!)
            {
                WriteGroupOf(text, rootPath, devices, groups);
            }

            return;
        }

        var numbers = Number ?? Guard(() => groups.ListNumbers()).ToArray();
        foreach (var number in numbers)
        {
            StopToken.ThrowIfCancellationRequested();
            var group = Guard(() => groups.Read(number));
            if (group is null)
            {
                WriteCoreError(ErrorCatalog.IommuGroupNotFound(number, rootPath));
                continue;
            }

            Write(group, rootPath);
        }
    }

    private void WriteGroupOf(string text, string rootPath, PciDeviceReader devices, IommuGroupReader groups)
    {
        if (RequireOrReport(devices, text) is not { } device)
        {
            return;
        }

        if (device.IommuGroup is not int number || Guard(() => groups.Read(number)) is not IommuGroup group)
        {
            WriteCoreError(ErrorCatalog.NoIommuGroup(device.PciAddress, text));
            return;
        }

        Write(group, rootPath);
    }

    // Devices of one group arrive one after another from the pipeline; each group is written once.
    private void Write(IommuGroup group, string rootPath)
    {
        if (_written.Add((rootPath, group.Number)))
        {
            WriteObject(group);
        }
    }

    private (string, PciDeviceReader, IommuGroupReader) ReadersFor(HostRoot root)
    {
        if (_readers is not { } r || r.Root != root.Path)
        {
            var session = SessionFor(root);
            _ = Guard(session.Devices.ListAddresses); // a tree without sysfs is an error, as for Get-PciDevice
            if (Topology.AcsOverrideParameters.Warning(Topology.AcsOverrideParameters.Find(root)) is string warning)
            {
                WriteWarning(warning);
            }

            _readers = r = (root.Path, session.Devices, session.Groups);
        }

        return r;
    }
}
