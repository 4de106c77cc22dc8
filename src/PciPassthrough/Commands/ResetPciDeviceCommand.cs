using System.Management.Automation;
using PciPassthrough.Binding;
using PciPassthrough.Ids;
using PciPassthrough.PowerShell.Common;
using PciPassthrough.PowerShell.Completion;
using PciPassthrough.Reset;
using PciPassthrough.Sysfs;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>Resets devices through the kernel's reset file, optionally with chosen methods for the call.</summary>
[Cmdlet(VerbsCommon.Reset, "PciDevice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = FunctionSet)]
[OutputType(typeof(ResetResult))]
public sealed class ResetPciDeviceCommand : HostChangingCmdletBase
{
    private const string FunctionSet = "Function";
    private const string SubordinateSet = "Subordinate";

    /// <summary>Devices to reset: addresses, or PciDevice objects (bound by their Address).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("PciAddress")]
    public string[] Address { get; set; } = [];

    /// <summary>The reset methods to allow for this call, in order (written to reset_method, restored afterwards).</summary>
    [Parameter(ParameterSetName = FunctionSet)]
    [ValidateNotNullOrEmpty]
    [ValidateSet("device_specific", "acpi", "flr", "af_flr", "pm", "bus", "cxl_bus")]
    public string[]? Method { get; set; }

    /// <summary>Reset everything below the given bridges (a secondary bus reset through reset_subordinate), never the default.</summary>
    [Parameter(Mandatory = true, ParameterSetName = SubordinateSet)]
    public SwitchParameter Subordinate { get; set; }

    /// <summary>Seconds to wait for each sysfs write; a reset can hang on broken hardware.</summary>
    [Parameter]
    [ValidateRange(1, 600)]
    public int TimeoutSeconds { get; set; } = 30;

    protected override void ProcessRecord()
    {
        var root = ResolveRoot();
        var reader = new PciDeviceReader(root, Guard(() => PciIdDatabaseLocator.Locate(root, null)));
        var resetter = new PciResetter(root, new LiveKernel(root), reader) { WriteTimeout = TimeSpan.FromSeconds(TimeoutSeconds) };
        foreach (var text in Address)
        {
            StopToken.ThrowIfCancellationRequested();
            if (!IsForThisHost(text))
            {
                continue;
            }

            try
            {
                var device = reader.Require(text);
                if (Subordinate)
                {
                    ResetBelow(resetter, device);
                    continue;
                }

                resetter.Check(device, Method);
                var methods = PciResetter.EffectiveMethods(device, Method);
                var what = $"reset {device.PciAddress} ({device.DeviceName}, {(device.Driver is null ? "no driver" : "bound to " + device.Driver)}): methods tried in order {string.Join(", ", methods)}"
                    + (device.Driver is null ? "" : "; the driver is notified (reset_prepare/reset_done)")
                    + (Method is null ? "" : $"; reset_method '{string.Join(" ", device.ResetMethods)}' is restricted for the call and restored");
                if (!ShouldProcess(what, what, "Reset-PciDevice"))
                {
                    continue;
                }

                var result = resetter.Reset(device, Method);
                WriteVerbose(result.Message);
                WriteObject(result);
            }
            catch (PciPassthroughException e)
            {
                WriteCoreError(e);
            }
        }
    }

    private void ResetBelow(PciResetter resetter, PciDevice bridge)
    {
        var below = resetter.CheckSubordinate(bridge);
        var devices = below.Count == 0
            ? "no device"
            : string.Join(", ", below.Select(d => $"{d.PciAddress} ({d.DeviceName}, {(d.Driver is null ? "no driver" : "bound to " + d.Driver)})"));
        var what = $"reset everything below {bridge.PciAddress} ({bridge.DeviceName}) with a secondary bus reset (reset_subordinate): {devices}; their drivers are notified";
        if (!ShouldProcess(what, what, "Reset-PciDevice -Subordinate"))
        {
            return;
        }

        var result = resetter.ResetSubordinate(bridge);
        WriteVerbose(result.Message);
        WriteObject(result);
    }
}
