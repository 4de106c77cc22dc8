using System.Management.Automation;
using PciPassthrough.Host;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.PowerShell.Common;
using PciPassthrough.PowerShell.Completion;
using PciPassthrough.Readiness;
using PciPassthrough.Sysfs;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>Per device: can it be passed through now, and after a reboot, and what must be done if not.</summary>
[Cmdlet(VerbsDiagnostic.Test, "PciPassthroughReadiness")]
[OutputType(typeof(PassthroughReadiness))]
public sealed class TestPciPassthroughReadinessCommand : PciCmdletBase
{
    private (HostSession Session, PassthroughReadinessInspector Inspector)? _audit;

    /// <summary>Devices to assess (addresses, or PciDevice objects by their Address); every device when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("PciAddress")]
    public string[]? Address { get; set; }

    protected override void ProcessRecord()
    {
        var session = SessionFor(ResolveRoot());
        if (_audit is not { } audit || audit.Session != session)
        {
            _audit = audit = (session, new PassthroughReadinessInspector(session));
        }

        var (devices, inspector) = (session.Devices, audit.Inspector);
        if (Address is null)
        {
            foreach (var device in Guard(() => devices.ReadAll(cancel: StopToken).ToList()))
            {
                WriteObject(Guard(() => inspector.Assess(device)));
            }

            return;
        }

        foreach (var text in Address)
        {
            if (RequireOrReport(devices, text) is not { } device)
            {
                continue;
            }

            var readiness = Guard(() => inspector.Assess(device));
            WriteVerbose($"{device.PciAddress}: ready now {readiness.ReadyNow}, after a reboot {readiness.ReadyAfterReboot}.");
            WriteObject(readiness);
        }
    }
}
