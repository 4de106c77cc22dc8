using System.Management.Automation;
using PciPassthrough.Binding;
using PciPassthrough.HostConfig;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.PowerShell.Common;
using PciPassthrough.PowerShell.Completion;
using PciPassthrough.Reset;
using PciPassthrough.Sysfs;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>Chooses, restores or disables the reset methods the kernel uses for a device (its reset_method file).</summary>
[Cmdlet(VerbsCommon.Set, "PciResetMethod", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = MethodSet)]
[OutputType(typeof(PciDevice))]
public sealed class SetPciResetMethodCommand : HostChangingCmdletBase
{
    private const string MethodSet = "Method";
    private const string DefaultSet = "Default";
    private const string DisableSet = "Disable";

    /// <summary>Devices to change: addresses, or PciDevice objects (bound by their Address).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("PciAddress")]
    public string[] Address { get; set; } = [];

    /// <summary>The methods to enable, in the order the kernel tries them.</summary>
    [Parameter(Mandatory = true, ParameterSetName = MethodSet)]
    [ValidateNotNullOrEmpty]
    [ValidateSet("device_specific", "acpi", "flr", "af_flr", "pm", "bus", "cxl_bus")]
    public string[] Method { get; set; } = [];

    /// <summary>Restore every method the device supports, in the kernel's order.</summary>
    [Parameter(Mandatory = true, ParameterSetName = DefaultSet)]
    public SwitchParameter Default { get; set; }

    /// <summary>Disable resets of the device (writes a newline, as the kernel expects).</summary>
    [Parameter(Mandatory = true, ParameterSetName = DisableSet)]
    public SwitchParameter Disable { get; set; }

    /// <summary>Write the device, as read afterwards, to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Also keep the choice across reboots: a line per device in the module's udev rule file (-Default removes it).</summary>
    [Parameter]
    public SwitchParameter Persist { get; set; }

    // Devices whose rule changes in EndProcessing: methods, empty (disabled), or null (the default: no line).
    private readonly Dictionary<string, string[]?> _persist = new(StringComparer.Ordinal);
    private HostRoot? _root;

    protected override void ProcessRecord()
    {
        var root = ResolveRoot();
        _root = root;
        var reader = new PciDeviceReader(root, Guard(() => PciIdDatabaseLocator.Locate(root, null)));
        var resetter = new PciResetter(root, new LiveKernel(root), reader);
        var text = ParameterSetName switch
        {
            DefaultSet => "default\n",
            DisableSet => "\n",
            _ => string.Join(' ', Method) + "\n",
        };
        foreach (var address in Address)
        {
            if (!IsForThisHost(address))
            {
                continue;
            }

            try
            {
                var device = reader.Require(address);
                var target = ParameterSetName switch { DefaultSet => "default", DisableSet => "(none: resets disabled)", _ => text.Trim() };
                var what = $"reset_method of {device.PciAddress} ({device.DeviceName}): '{string.Join(" ", device.ResetMethods)}' -> '{target}'";
                if (!ShouldProcess(what, what, "Set-PciResetMethod"))
                {
                    if (IsWhatIf)
                    {
                        Remember(device.PciAddress); // so that -WhatIf also shows the rule file's diff
                    }

                    continue;
                }

                resetter.WriteMethods(device, text);
                Remember(device.PciAddress);
                var after = reader.Require(device.PciAddress);
                WriteVerbose($"{device.PciAddress}: reset_method is now '{string.Join(" ", after.ResetMethods)}'.");
                if (PassThru)
                {
                    WriteObject(after);
                }
            }
            catch (PciPassthroughException e)
            {
                WriteCoreError(e);
            }
        }
    }

    // One rule file change for the whole pipeline, after the live writes, for the devices written.
    protected override void EndProcessing()
    {
        if (!Persist || _persist.Count == 0 || _root is null)
        {
            return;
        }

        var change = Guard(() => ResetMethodRules.Plan(_root, _persist));
        if (change.Action == FileAction.Unchanged)
        {
            WriteVerbose($"{change.Path} already persists these reset methods.");
            return;
        }

        Guard(() => ConfigFiles.EnsureWritable([change]));
        if (ShouldProcess($"{change.Path}:\n{change.Diff}", $"{change.Action} {change.Path}?", $"{change.Action} {change.Path}"))
        {
            var written = Guard(() => ConfigFiles.Apply(change, DateTime.Now));
            WriteVerbose($"{written.Path}: {written.Action}{(written.Backup is null ? "" : $", previous content in {written.Backup}")}; udev applies it when the devices are next added (boot, or udevadm trigger --action=add --subsystem-match=pci).");
        }
    }

    private void Remember(string address)
    {
        if (Persist)
        {
            _persist[address] = ParameterSetName switch { DefaultSet => null, DisableSet => [], _ => Method };
        }
    }
}
