using System.Management.Automation;
using PciPassthrough.OpenNebula.HostAttributes;
using PciPassthrough.PowerShell.Common;
using PciPassthrough.PowerShell.Completion;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>
/// A host's PCI_FILTER and PCI_SHORT_ADDRESS attributes for the devices it gives to guests (on vfio-pci or
/// overridden to it), and the text for <c>onehost update --append</c>. Reads only.
/// </summary>
[Cmdlet(VerbsCommon.New, "PciHostFilter")]
[OutputType(typeof(PciHostFilterAttributes))]
public sealed class NewPciHostFilterCommand : PciCmdletBase
{
    private readonly List<string> _addresses = [];

    /// <summary>Only these devices, instead of every device on vfio-pci: addresses or piped PciDevice objects.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("PciAddress")]
    public string[]? Address { get; set; }

    /// <summary>The host's name or ID in OpenNebula, for the onehost update command line.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? HostName { get; set; }

    protected override void ProcessRecord() => _addresses.AddRange(Address ?? []);

    // One result for the whole pipeline: the attributes name all devices at once.
    protected override void EndProcessing()
    {
        var session = SessionFor(ResolveRoot());
        WriteObject(Guard(() => PciHostFilterBuilder.FromHost(session, _addresses, HostName)));
    }
}
