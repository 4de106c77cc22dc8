using System.Management.Automation;
using PciPassthrough.OpenNebula.Placement;
using PciPassthrough.PowerShell.Common;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>The libvirt hostdev element for a device: from an address, a PciDevice, a placement's assignment, or an mdev UUID.</summary>
[Cmdlet(VerbsData.ConvertTo, "PciHostdevXml", DefaultParameterSetName = "Pci")]
[OutputType(typeof(string))]
public sealed class ConvertToPciHostdevXmlCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = "Pci")]
    [ValidateNotNullOrEmpty]
    [Alias("PciAddress")]
    public string[] Address { get; set; } = [];

    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = "Mdev")]
    [ValidateNotNullOrEmpty]
    public string Uuid { get; set; } = "";

    protected override void ProcessRecord()
    {
        try
        {
            if (ParameterSetName == "Mdev")
            {
                WriteObject(HostdevXml.ForMdev(Uuid));
                return;
            }

            foreach (var a in Address)
            {
                WriteObject(HostdevXml.ForPci(PciAddress.Parse(a)));
            }
        }
        catch (PciPassthroughException e) when (MyInvocation.ExpectingInput)
        {
            WriteError(ErrorRecords.From(e));
        }
        catch (PciPassthroughException e)
        {
            ThrowTerminatingError(ErrorRecords.From(e));
        }
    }
}
