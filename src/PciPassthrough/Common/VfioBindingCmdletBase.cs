using System.Management.Automation;
using PciPassthrough.Binding;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.PowerShell.Completion;
using PciPassthrough.Sysfs;

namespace PciPassthrough.PowerShell.Common;

/// <summary>
/// What Set-VfioBinding and Remove-VfioBinding share: devices are collected from the pipeline and
/// changed in EndProcessing, so that one call is one transaction; ShouldProcess is asked once per
/// device, after it is resolved and right before the change.
/// </summary>
public abstract class VfioBindingCmdletBase : HostChangingCmdletBase
{
    private readonly List<PciDevice> _planned = [];
    private readonly List<PciDevice> _unchanged = [];
    private HostRoot? _root;
    private PciDeviceReader? _reader;
    private VfioBinder? _binder;

    /// <summary>The parameter set of the device parameters (Remove-VfioBinding also has -ClearJournal).</summary>
    protected const string DevicesSet = "Address";

    /// <summary>Addresses, or PciDevice objects (live or deserialized) bound by their Address.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = DevicesSet)]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("PciAddress")]
    public string[] Address { get; set; } = [];

    /// <summary>Past every safety refusal. Only for someone who knows what the host will lose.</summary>
    [Parameter(ParameterSetName = DevicesSet)]
    public SwitchParameter Force { get; set; }

    /// <summary>Return the refreshed devices.</summary>
    [Parameter(ParameterSetName = DevicesSet)]
    public SwitchParameter PassThru { get; set; }

    /// <summary>How long to wait for another binding call to finish, in seconds.</summary>
    [Parameter]
    [ValidateRange(0, 3600)]
    public int LockTimeout { get; set; } = 60;

    /// <summary>The verb's action for ShouldProcess, e.g. "Bind to vfio-pci".</summary>
    protected abstract string Action { get; }

    /// <summary>True when the device is already where the call would put it.</summary>
    protected abstract bool IsAlreadyThere(PciDevice device);

    protected abstract string AlreadyThereMessage(PciDevice device);

    /// <summary>The devices this request moves (refusals are PciPassthroughExceptions).</summary>
    protected abstract IEnumerable<PciDevice> Plan(VfioBinder binder, PciDevice device);

    protected abstract IReadOnlyList<DeviceBindingResult> Execute(VfioBinder binder, IReadOnlyList<PciDevice> devices);

    /// <summary>With -Persist: what the boot binding must say of these devices (moved now, or already there); null without.</summary>
    protected virtual HostConfig.HostConfigurationRequest? Persistence(IReadOnlyList<PciDevice> devices) => null;

    protected override void ProcessRecord()
    {
        var root = ResolveRoot();
        if (_root is not null && _root.Path != root.Path)
        {
            WriteCoreError(ErrorCatalog.RootMismatch(root.Path, _root.Path));
            return;
        }

        _root = root;
        _reader ??= SessionFor(root).Devices;
        var binder = Binder();
        foreach (var text in Address)
        {
            if (!IsForThisHost(text))
            {
                continue;
            }

            try
            {
                var device = _reader.Require(text);
                if (IsAlreadyThere(device))
                {
                    _unchanged.Add(device);
                    continue;
                }

                var moves = Plan(binder, device).ToList();
                if (moves.Count == 0)
                {
                    _unchanged.Add(device); // on vfio-pci with its whole group already
                    continue;
                }

                foreach (var planned in moves)
                {
                    if (!_planned.Exists(p => p.PciAddress == planned.PciAddress))
                    {
                        _planned.Add(planned);
                    }
                }
            }
            catch (PciPassthroughException e)
            {
                WriteCoreError(e);
            }
        }
    }

    protected override void EndProcessing()
    {
        if (_root is null || _reader is null)
        {
            return;
        }

        foreach (var device in _unchanged)
        {
            // A no-op says so, on the host like Write-Host, without adding to the output.
            WriteInformation(new HostInformationMessage { Message = AlreadyThereMessage(device) }, ["PSHOST"]);
        }

        if (_planned.Count > 0 && !IsWhatIf)
        {
            Guard(() => Binder().EnsurePrivileged()); // before any prompt: a non-root caller gets nowhere
        }

        var approved = _planned.Where(d => ShouldProcess($"{d.PciAddress} ({d.DeviceName}, on {d.Driver ?? "no driver"})", Action)).ToList();
        if (approved.Count > 0)
        {
            var binder = Binder();
            var results = Guard(() => Execute(binder, approved));
            WriteProgress(new ProgressRecord(2, Action, "Done") { RecordType = ProgressRecordType.Completed });
            foreach (var r in results.Where(r => r.Outcome == BindingOutcome.AlreadyThere))
            {
                WriteInformation(new HostInformationMessage { Message = $"{r.PciAddress} was already on {r.ToDriver ?? "no driver"}; nothing to do." }, ["PSHOST"]);
            }
        }

        // -WhatIf previews the boot binding of every device the call would move; a real run persists the ones it moved.
        if (Persistence([.. _unchanged, .. IsWhatIf ? _planned : approved]) is { } request)
        {
            PersistBootBinding(_root, request);
        }

        if (PassThru)
        {
            foreach (var device in _unchanged.Concat(approved))
            {
                if (_reader.Read(PciAddress.Parse(device.PciAddress)) is { } refreshed)
                {
                    WriteObject(refreshed);
                }
            }
        }
    }

    /// <summary>
    /// Writes the boot binding's files as Set-VfioHostConfiguration does (planned whole, under the configuration lock,
    /// confirmed once with every diff, all written or none), without touching the kernel command line or the initramfs.
    /// </summary>
    private void PersistBootBinding(HostRoot root, HostConfig.HostConfigurationRequest request)
    {
        using var held = IsWhatIf ? null : Guard(() => HostConfig.ConfigurationLock.Acquire(root, HostConfig.ConfigurationLock.DefaultTimeout, StopToken, WriteVerbose));
        var plan = Guard(() => HostConfig.VfioHostConfigurator.Plan(SessionFor(root), request with { KernelCommandLine = false, Initramfs = HostConfig.InitramfsKind.None }, WriteWarning));
        Guard(() => HostConfig.ConfigFiles.EnsureWritable(plan));
        var confirmed = ConfigConfirmation.Confirm(this, plan, IsWhatIf);
        Guard(() => HostConfig.ConfigFiles.ApplyAll(confirmed, DateTime.UtcNow));
        foreach (var change in confirmed)
        {
            WriteVerbose($"{change.Action} {change.Path}.");
        }

        if (HostConfig.VfioHostConfigurator.FollowUpCommands(root, confirmed) is { Count: > 0 } commands)
        {
            WriteInformation(new HostInformationMessage { Message = "For the boot binding to take effect, run: " + string.Join("; ", commands) }, ["PSHOST"]);
        }
    }

    protected void Progress(int done, int total) =>
        WriteProgress(new ProgressRecord(2, Action, $"Device {done} of {total}") { PercentComplete = done * 100 / total });

    protected VfioBinder Binder(HostRoot root, PciDeviceReader reader) =>
        new(root, new LiveKernel(root), reader, BinderSettings.For(root, StopToken) with { LockTimeout = TimeSpan.FromSeconds(LockTimeout) });

    // One binder per call: piped devices share the session's facts instead of re-reading the host
    // for each item (the binder reads them afresh under the lock before it writes).
    private VfioBinder Binder() =>
        _binder ??= new(SessionFor(_root!), new LiveKernel(_root!), BinderSettings.For(_root!, StopToken) with { LockTimeout = TimeSpan.FromSeconds(LockTimeout) });
}
