using System.Management.Automation;
using PciPassthrough.PowerShell.Common;
using PciPassthrough.PowerShell.Completion;
using PciPassthrough.Sriov;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>Sets VF admin attributes (MAC, VLAN, spoof check, trust, link state, rates) through ip, rolled back as one call.</summary>
[Cmdlet(VerbsCommon.Set, "PciVirtualFunction", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = AddressSet)]
[OutputType(typeof(VirtualFunction))]
public sealed class SetPciVirtualFunctionCommand : HostChangingCmdletBase
{
    private const string AddressSet = "Address";
    private const string IndexSet = "Index";
    private const string ClearJournalSet = "ClearJournal";
    private readonly List<VirtualFunction> _vfs = [];
    private PciPassthrough.Host.HostSession? _session;
    private VirtualFunctionReader? _reader;

    /// <summary>VFs to change: addresses, or VirtualFunction / PciDevice objects bound by their PciAddress.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = AddressSet)]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("PciAddress")]
    public string[] Address { get; set; } = [];

    /// <summary>The PF whose VFs -Index names.</summary>
    [Parameter(Mandatory = true, ParameterSetName = IndexSet)]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    [ValidateNotNullOrEmpty]
    public string PhysicalFunction { get; set; } = "";

    /// <summary>VF indexes (N of virtfnN) of -PhysicalFunction.</summary>
    [Parameter(Mandatory = true, ParameterSetName = IndexSet)]
    [ValidateNotNullOrEmpty]
    [ValidateRange(0, 65535)]
    public int[] Index { get; set; } = [];

    /// <summary>The VF's admin MAC address (unicast).</summary>
    [Parameter(ParameterSetName = AddressSet)]
    [Parameter(ParameterSetName = IndexSet)]
    [ValidateNotNullOrEmpty]
    public string? MacAddress { get; set; }

    /// <summary>The VLAN ID, 0 to 4095 (0: none).</summary>
    [Parameter(ParameterSetName = AddressSet)]
    [Parameter(ParameterSetName = IndexSet)]
    public int? VlanId { get; set; }

    /// <summary>The 802.1p priority of the VLAN, 0 to 7 (with -VlanId).</summary>
    [Parameter(ParameterSetName = AddressSet)]
    [Parameter(ParameterSetName = IndexSet)]
    [ValidateRange(0, 7)]
    public int? VlanQos { get; set; }

    /// <summary>The VLAN protocol (with -VlanId).</summary>
    [Parameter(ParameterSetName = AddressSet)]
    [Parameter(ParameterSetName = IndexSet)]
    [ValidateSet("802.1Q", "802.1ad")]
    public string? VlanProtocol { get; set; }

    /// <summary>MAC spoof checking.</summary>
    [Parameter(ParameterSetName = AddressSet)]
    [Parameter(ParameterSetName = IndexSet)]
    public bool? SpoofCheck { get; set; }

    /// <summary>Trusted mode (promiscuous, MAC changes by the guest).</summary>
    [Parameter(ParameterSetName = AddressSet)]
    [Parameter(ParameterSetName = IndexSet)]
    public bool? Trust { get; set; }

    /// <summary>The administrative link state.</summary>
    [Parameter(ParameterSetName = AddressSet)]
    [Parameter(ParameterSetName = IndexSet)]
    public VirtualFunctionLinkState? LinkState { get; set; }

    /// <summary>The maximum transmit rate, Mbit/s (0: unlimited).</summary>
    [Parameter(ParameterSetName = AddressSet)]
    [Parameter(ParameterSetName = IndexSet)]
    [ValidateRange(0, int.MaxValue)]
    public int? MaxTxRateMbps { get; set; }

    /// <summary>The minimum transmit rate, Mbit/s (0: none).</summary>
    [Parameter(ParameterSetName = AddressSet)]
    [Parameter(ParameterSetName = IndexSet)]
    [ValidateRange(0, int.MaxValue)]
    public int? MinTxRateMbps { get; set; }

    /// <summary>Back to safe defaults first: no MAC, no VLAN, spoof checking on, not trusted, link auto, no rate limits.</summary>
    [Parameter(ParameterSetName = AddressSet)]
    [Parameter(ParameterSetName = IndexSet)]
    public SwitchParameter Reset { get; set; }

    /// <summary>Drop the journal an interrupted call left, restoring nothing (after putting its VFs right by hand).</summary>
    [Parameter(Mandatory = true, ParameterSetName = ClearJournalSet)]
    public SwitchParameter ClearJournal { get; set; }

    protected override void ProcessRecord()
    {
        var root = ResolveRoot();
        _session ??= SessionFor(root);
        _reader ??= new VirtualFunctionReader(_session) { Ip = IpCommand.Find(root), IncludeNetworkConfiguration = true };
        var texts = ParameterSetName == IndexSet ? [PhysicalFunction] : Address;
        foreach (var text in texts)
        {
            if (!IsForThisHost(text))
            {
                continue;
            }

            try
            {
                var found = _reader.Resolve(text, physicalFunctionOnly: ParameterSetName == IndexSet);
                if (ParameterSetName == IndexSet)
                {
                    var missing = Index.Where(i => !found.Any(v => v.Index == i)).ToList();
                    if (missing.Count > 0)
                    {
                        WriteCoreError(ErrorCatalog.NoSuchVirtualFunctionIndex(PhysicalFunction, missing, found.Count));
                    }

                    found = found.Where(v => Index.Contains(v.Index)).ToList();
                }
                else if (found.Count > 1)
                {
                    WriteCoreError(ErrorCatalog.PhysicalFunctionWhereVirtualFunctionExpected(text));
                    continue;
                }

                _vfs.AddRange(found.Where(v => !_vfs.Exists(x => x.PciAddress == v.PciAddress)));
            }
            catch (PciPassthroughException e)
            {
                WriteCoreError(e);
            }
        }
    }

    protected override void EndProcessing()
    {
        if (ClearJournal)
        {
            var session = SessionFor(ResolveRoot());
            var clearing = new VirtualFunctionConfigurator(session, null, TimeSpan.FromSeconds(60), StopToken);
            if (ShouldProcess(new PciPassthrough.Binding.BindingState(session.Root).VfJournalFile, "Remove the journal of an interrupted Set-PciVirtualFunction, restoring nothing"))
            {
                Guard(() => clearing.ClearJournal(WriteVerbose));
            }

            return;
        }

        if (_session is null || _reader is null || _vfs.Count == 0)
        {
            return;
        }

        var configurator = new VirtualFunctionConfigurator(_session, IpCommand.Find(_session.Root), TimeSpan.FromSeconds(60), StopToken);
        if (IsWhatIf)
        {
            // The real call restores these first: the preview shows it.
            foreach (var entry in Guard(configurator.ReadJournal))
            {
                ShouldProcess($"{entry.PciAddress}: restore from the journal of an interrupted call: {entry.CommandLine}", $"{entry.PciAddress}: restore: {entry.CommandLine}", "Set-PciVirtualFunction");
            }
        }

        var asked = new VirtualFunctionSettings(MacAddress, VlanId, VlanQos, VlanProtocol, SpoofCheck, Trust, LinkState, MaxTxRateMbps, MinTxRateMbps);
        var defaults = VirtualFunctionSettings.SafeDefaults;
        var settings = !Reset ? asked : new VirtualFunctionSettings(
            asked.MacAddress ?? defaults.MacAddress,
            asked.VlanId ?? defaults.VlanId,
            asked.VlanQos,
            asked.VlanProtocol,
            asked.SpoofCheck ?? defaults.SpoofCheck,
            asked.Trust ?? defaults.Trust,
            asked.LinkState ?? defaults.LinkState,
            asked.MaxTxRateMbps ?? defaults.MaxTxRateMbps,
            asked.MinTxRateMbps ?? defaults.MinTxRateMbps);
        Guard(() => VirtualFunctionConfigurator.Validate(settings, Reset));
        var steps = new List<VirtualFunctionConfigurationStep>();
        foreach (var vf in _vfs)
        {
            try
            {
                var step = VirtualFunctionConfigurator.Plan(vf, settings);
                var held = vf.InUse.Length > 0 ? $" (in use by {string.Join(", ", vf.InUse.Select(u => u.ToString()))})" : "";
                if (ShouldProcess($"{vf.PciAddress}{held}: {step.CommandLine}", $"{vf.PciAddress}{held}: {step.CommandLine}", "Set-PciVirtualFunction"))
                {
                    steps.Add(step);
                }
            }
            catch (PciPassthroughException e)
            {
                WriteCoreError(e);
            }
        }

        if (steps.Count == 0)
        {
            return;
        }

        Guard(() => configurator.Apply(steps, WriteVerbose, WriteWarning));
        var after = new VirtualFunctionReader(_session) { Ip = IpCommand.Find(_session.Root), IncludeNetworkConfiguration = true };
        foreach (var step in steps)
        {
            WriteObject(after.Resolve(step.VirtualFunction.PciAddress)[0]);
        }
    }
}
