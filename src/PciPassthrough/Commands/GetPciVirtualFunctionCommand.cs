using System.Management.Automation;
using PciPassthrough.PowerShell.Common;
using PciPassthrough.PowerShell.Completion;
using PciPassthrough.Sriov;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>Lists SR-IOV virtual functions: of every PF, of the PFs named, or the VFs named.</summary>
[Cmdlet(VerbsCommon.Get, "PciVirtualFunction", DefaultParameterSetName = AddressSet)]
[OutputType(typeof(VirtualFunction))]
public sealed class GetPciVirtualFunctionCommand : PciCmdletBase
{
    private const string AddressSet = "Address";
    private const string PhysicalFunctionSet = "PhysicalFunction";
    private readonly HashSet<(string Root, string Address)> _written = [];

    /// <summary>PFs (all their VFs) or VFs: addresses, or PciDevice objects bound by their Address. Every VF when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = AddressSet)]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("PciAddress")]
    public string[]? Address { get; set; }

    /// <summary>PFs whose VFs to list; a VF address here is an error.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PhysicalFunctionSet)]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] PhysicalFunction { get; set; } = [];

    /// <summary>Also read each VF's admin MAC, VLAN, spoof check, trust, link state and rates (ip -j -d link show dev &lt;pf&gt;).</summary>
    [Parameter]
    public SwitchParameter IncludeNetworkConfiguration { get; set; }

    protected override void ProcessRecord()
    {
        var root = ResolveRoot();
        var session = SessionFor(root);
        var reader = new VirtualFunctionReader(session) { Ip = IncludeNetworkConfiguration ? IpCommand.Find(root) : null, IncludeNetworkConfiguration = IncludeNetworkConfiguration };
        try
        {
            Write(reader, session);
        }
        finally
        {
            foreach (var warning in reader.Warnings.Distinct())
            {
                WriteWarning(warning);
            }
        }
    }

    private void Write(VirtualFunctionReader reader, PciPassthrough.Host.HostSession session)
    {
        var texts = ParameterSetName == PhysicalFunctionSet ? PhysicalFunction : Address;
        if (texts is null)
        {
            _ = Guard(session.Devices.ListAddresses); // a tree without sysfs is an error, as for Get-PciDevice
            foreach (var vf in reader.ReadAll(StopToken))
            {
                Write(vf);
            }

            return;
        }

        foreach (var text in texts)
        {
            StopToken.ThrowIfCancellationRequested();
            try
            {
                foreach (var vf in reader.Resolve(text, physicalFunctionOnly: ParameterSetName == PhysicalFunctionSet))
                {
                    Write(vf);
                }
            }
            catch (PciPassthroughException e)
            {
                WriteCoreError(e);
            }
        }
    }

    // A PF and one of its VFs named in one call: each VF is written once.
    private void Write(VirtualFunction vf)
    {
        if (_written.Add((vf.Root, vf.PciAddress)))
        {
            WriteObject(vf);
        }
    }
}
