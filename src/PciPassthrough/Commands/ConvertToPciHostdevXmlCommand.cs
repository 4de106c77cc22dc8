using System.Management.Automation;
using PciPassthrough.OpenNebula.Placement;
using PciPassthrough.OpenNebula.Templates;
using PciPassthrough.PowerShell.Common;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>
/// The libvirt hostdev element for a device: from an address, a PciDevice, an mdev UUID, a placement's
/// assignment (everything OpenNebula's KVM driver writes: guest address, iommufd, acpi nodeset, managed,
/// the mdev form) or a SHORT_ADDRESS template section.
/// </summary>
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

    /// <summary>Find-PciPlacement's assignments (the Assignments of a placement).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "Assignment")]
    [ValidateNotNullOrEmpty]
    public PciAssignment[] Assignment { get; set; } = [];

    /// <summary>Template sections that request a device by SHORT_ADDRESS.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "Section")]
    [ValidateNotNullOrEmpty]
    public PciTemplateSection[] Section { get; set; } = [];

    protected override void ProcessRecord()
    {
        try
        {
            switch (ParameterSetName)
            {
                case "Mdev":
                    WriteObject(HostdevXml.ForMdev(Uuid));
                    break;
                case "Assignment":
                    foreach (var a in Assignment)
                    {
                        WriteObject(HostdevXml.ForAssignment(a));
                    }

                    break;
                case "Section":
                    foreach (var s in Section)
                    {
                        WriteObject(HostdevXml.ForSection(s));
                    }

                    break;
                default:
                    foreach (var a in Address)
                    {
                        WriteObject(HostdevXml.ForPci(PciAddress.Parse(a)));
                    }

                    break;
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
