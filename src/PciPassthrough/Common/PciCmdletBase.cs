using System.Management.Automation;
using PciPassthrough.Host;
using PciPassthrough.HostFs;

namespace PciPassthrough.PowerShell.Common;

/// <summary>What every cmdlet of the module shares: <c>-Root</c>, cancellation, and error reporting.</summary>
public abstract class PciCmdletBase : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private HostSession? _session;

    /// <summary>The host filesystem root; <c>/</c> is the live host.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Root { get; set; } = "/";

    protected CancellationToken StopToken => _stopping.Token;

    /// <summary>
    /// True when this call only previews: -WhatIf given, or $WhatIfPreference set by the caller (a
    /// runbook run with -WhatIf sets it for every command it calls). -WhatIf:$false wins over the preference.
    /// </summary>
    protected bool IsWhatIf =>
        MyInvocation.BoundParameters.TryGetValue("WhatIf", out var whatIf)
            ? ((SwitchParameter)whatIf).IsPresent
            : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));

    protected override void StopProcessing() => _stopping.Cancel();

    public void Dispose()
    {
        _stopping.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The root as the core wants it, or a terminating HostRootNotFound error.</summary>
    protected HostRoot ResolveRoot()
    {
        var path = Root;
        if (!path.StartsWith('/'))
        {
            // Relative paths mean the current PowerShell location, not the process directory.
            path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
        }

        return Guard(() => new HostRoot(path));
    }

    /// <summary>
    /// The host session of this call for <paramref name="root"/>: one per call and root, so that a
    /// pipeline of devices reads the host's facts once and every core service judges the same facts.
    /// </summary>
    protected HostSession SessionFor(HostRoot root, string? pciIdsPath = null)
    {
        if (_session is null || _session.Root.Path != root.Path)
        {
            _session = new HostSession(root, pciIdsPath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(pciIdsPath));
            _ = Guard(() => _session.Names); // an unreadable pci.ids is the command's error, here
        }

        return _session;
    }

    /// <summary>Runs core code; its failures end the command as terminating errors with stable IDs.</summary>
    protected T Guard<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (PciPassthroughException e)
        {
            ThrowTerminatingError(ErrorRecords.From(e));
            throw; // unreachable: ThrowTerminatingError always throws
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(ErrorRecords.Unexpected(e, UnexpectedIoErrorId, Root));
            throw;
        }
    }

    /// <summary>
    /// The error ID for an I/O failure the core did not anticipate, named after what the command was
    /// doing: a reader reports an unreadable host, a writer a failed change, a configuration writer
    /// a failed configuration write. A script that catches it then knows which kind of step failed.
    /// </summary>
    protected virtual string UnexpectedIoErrorId => ErrorIds.SysfsUnreadable;

    protected void Guard(Action action) => Guard(() =>
    {
        action();
        return true;
    });

    /// <summary>
    /// The device at <paramref name="address"/>, or null after a per-item error (InvalidPciAddress,
    /// PciDeviceNotFound) so that the command goes on with the next item.
    /// </summary>
    protected PciDevice? RequireOrReport(PciPassthrough.Sysfs.PciDeviceReader reader, string address)
    {
        try
        {
            return reader.Require(address);
        }
        catch (PciPassthroughException e)
        {
            WriteCoreError(e);
            return null;
        }
    }

    /// <summary>A per-item failure: reported, and the command goes on with the next item.</summary>
    protected void WriteCoreError(PciPassthroughException e) => WriteError(ErrorRecords.From(e));
}
