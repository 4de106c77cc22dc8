using System.Management.Automation;
using PciPassthrough.OpenNebula.Templates;
using PciPassthrough.PowerShell.Common;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>
/// Builds OpenNebula <c>PCI = [ ... ]</c> template sections from parameters or from PciDevice objects
/// (live or deserialized, bound by property name), one per input, in pipeline order.
/// </summary>
[Cmdlet(VerbsCommon.New, "PciTemplateSection")]
[OutputType(typeof(PciTemplateSection))]
public sealed class NewPciTemplateSectionCommand : PSCmdlet
{
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? VendorId { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? DeviceId { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Class { get; set; }

    /// <summary>lspci's slot string, <c>BB:SS.F</c>; a full address is shortened as lspci prints it.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? ShortAddress { get; set; }

    /// <summary>A piped device's full address, so that its slot string keeps a non-zero domain.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    [Alias("PciAddress")]
    public string? Address { get; set; }

    /// <summary>Which of a piped device's identifiers the section requests it by.</summary>
    [Parameter]
    [ValidateSet("VendorDeviceClass", "VendorDevice", "Class", "ShortAddress")]
    public string? By { get; set; }

    /// <summary>Makes the section a NIC (TYPE = "NIC") on this virtual network.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Network { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NetworkUname { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Mac { get; set; }

    [Parameter]
    [ValidateRange(0, 4095)]
    public int? VlanId { get; set; }

    [Parameter]
    [ValidateSet("YES", "NO")]
    public string? SpoofCheck { get; set; }

    [Parameter]
    [ValidateSet("YES", "NO")]
    public string? Trust { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Ip { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Ip6 { get; set; }

    // The guest-side attributes below go through the same checks as a template read by
    // ConvertFrom-PciTemplateSection (check_pci_attributes' messages), not through ValidateSet/ValidatePattern.

    /// <summary>ROOT: shared or dedicated, the pcie-expander-bus of a NUMA-pinned VM (written lower case, as OpenNebula stores it).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? RootMode { get; set; }

    /// <summary>ACPI_NODES: the libvirt nodeset of the hostdev's &lt;acpi nodeset/&gt;, for example 0,2-3.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? AcpiNodes { get; set; }

    /// <summary>VM_BUS: the guest bus (hex) instead of oned.conf's PCI_PASSTHROUGH_BUS, flat layout only.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? VmBus { get; set; }

    /// <summary>IOMMUFD = "YES": the hostdev gets &lt;driver iommufd='yes'/&gt;.</summary>
    [Parameter]
    public SwitchParameter Iommufd { get; set; }

    /// <summary>PROFILE: the NVIDIA vGPU profile (type) of the device.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Profile { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            WriteObject(PciTemplateSection.Create(Attributes()));
        }
        catch (PciPassthroughException e) when (MyInvocation.ExpectingInput)
        {
            WriteError(ErrorRecords.From(e)); // one bad device: report it, go on with the next
        }
        catch (PciPassthroughException e)
        {
            ThrowTerminatingError(ErrorRecords.From(e));
        }
    }

    private List<KeyValuePair<string, string?>> Attributes()
    {
        var by = By ?? (MyInvocation.ExpectingInput ? "VendorDeviceClass" : null);
        var slot = ShortAddress;
        if (Address is not null && PciAddress.TryParse(Address, out var full))
        {
            slot = full.ToLspciSlot();
        }

        return
        [
            new("NETWORK", Network),
            new("NETWORK_UNAME", NetworkUname),
            new("TYPE", Network is null ? null : PciTemplateSection.NicType),
            new("SHORT_ADDRESS", by is null or "ShortAddress" ? slot : null),
            new("VENDOR", by is null or "VendorDeviceClass" or "VendorDevice" ? VendorId : null),
            new("DEVICE", by is null or "VendorDeviceClass" or "VendorDevice" ? DeviceId : null),
            new("CLASS", by is null or "VendorDeviceClass" or "Class" ? Class : null),
            new("MAC", Mac),
            new("VLAN_ID", VlanId?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("SPOOFCHK", SpoofCheck),
            new("TRUST", Trust),
            new("IP", Ip),
            new("IPV6", Ip6),
            new("ROOT", RootMode),
            new("ACPI_NODES", AcpiNodes),
            new("VM_BUS", VmBus),
            new("IOMMUFD", Iommufd ? "YES" : null),
            new("PROFILE", Profile),
        ];
    }
}
