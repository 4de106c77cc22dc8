using System.Diagnostics;
using System.Management.Automation;
using PciPassthrough.HostConfig;
using PciPassthrough.HostConfig.Boot;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.PowerShell.Common;
using PciPassthrough.PowerShell.Completion;
using PciPassthrough.Sysfs;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>
/// Makes the host's VFIO configuration survive a reboot: kernel command line, initramfs, modprobe,
/// boot-time binding, udev and libvirt's device ACL. One object per file; a second identical run
/// changes nothing.
/// </summary>
[Cmdlet(VerbsCommon.Set, "VfioHostConfiguration", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(ConfigFileChange))]
public sealed class SetVfioHostConfigurationCommand : HostChangingCmdletBase
{
    private readonly List<string> _addresses = [];
    private readonly List<string> _rejected = [];

    /// <summary>What this command writes is configuration: an unanticipated I/O failure is a failed configuration write.</summary>
    protected override string UnexpectedIoErrorId => ErrorIds.ConfigWriteFailed;

    /// <summary>Devices to bind to vfio-pci at boot (by address, or piped devices).</summary>
    [Parameter(ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("PciAddress")]
    public string[]? Address { get; set; }

    /// <summary>The addresses replace the boot binding's device list instead of joining it; -WhatIf names each device that leaves.</summary>
    [Parameter]
    public SwitchParameter Replace { get; set; }

    /// <summary>Each device's IOMMU group peers are bound at boot with it (else leaving one on the host is refused).</summary>
    [Parameter]
    public SwitchParameter IncludeGroup { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidatePattern(@"\A[A-Za-z0-9_-]+\z")]
    public string[]? BlacklistDriver { get; set; }

    /// <summary>Drivers to take off the module's blacklist, in modprobe.d and on the kernel command line.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidatePattern(@"\A[A-Za-z0-9_-]+\z")]
    public string[]? RemoveBlacklistDriver { get; set; }

    /// <summary>Drivers vfio-pci must load before (softdep DRIVER pre: vfio-pci).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidatePattern(@"\A[A-Za-z0-9_-]+\z")]
    public string[]? SoftdepDriver { get; set; }

    /// <summary>vendor:device ids for 'options vfio-pci ids=' (claims every device with these ids).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidatePattern(@"\A[0-9a-fA-F]{4}:[0-9a-fA-F]{4}\z")]
    public string[]? VfioPciId { get; set; }

    [Parameter]
    [ValidateSet("Auto", "Intel", "AMD")]
    public string Iommu { get; set; } = "Auto";

    /// <summary>Add iommu=pt.</summary>
    [Parameter]
    public SwitchParameter IommuPassthrough { get; set; }

    /// <summary>Leave the boot loader's kernel command line alone.</summary>
    [Parameter]
    public SwitchParameter SkipKernelCommandLine { get; set; }

    /// <summary>Which file holds the kernel command line: detected from the host by default.</summary>
    [Parameter]
    public BootLoaderKind BootLoader { get; set; } = BootLoaderKind.Auto;

    [Parameter]
    public InitramfsKind Initramfs { get; set; } = InitramfsKind.Auto;

    /// <summary>The kernel the initramfs modules must exist for; the running one by default.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidatePattern(@"\A[A-Za-z0-9._+-]+\z")]
    public string? KernelRelease { get; set; }

    [Parameter]
    [ValidatePattern(@"\A[a-z_][a-z0-9_-]*\z")]
    public string UdevOwner { get; set; } = "oneadmin";

    [Parameter]
    [ValidatePattern(@"\A[a-z_][a-z0-9_-]*\z")]
    public string UdevGroup { get; set; } = "kvm";

    [Parameter]
    [ValidatePattern(@"\A0?[0-7]{3}\z")]
    public string UdevMode { get; set; } = "0660";

    /// <summary>Past the safety refusals for boot-bound devices.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>PFs whose VFs the boot creates: @{ '0000:08:00.0' = 4; '0000:81:00.0' = 'Max' }.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public System.Collections.Hashtable? VirtualFunctionCount { get; set; }

    /// <summary>sriov_drivers_autoprobe for the PFs of -VirtualFunctionCount ($false by default: no host driver takes the VFs).</summary>
    [Parameter]
    public bool? VirtualFunctionDriversAutoprobe { get; set; }

    /// <summary>Persist every PF that has VFs now: its count, autoprobe and its VFs' admin attributes as they are.</summary>
    [Parameter]
    public SwitchParameter PersistVirtualFunctions { get; set; }

    /// <summary>PFs to take out of the boot-time SR-IOV configuration.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    public string[]? RemoveVirtualFunctionCount { get; set; }

    /// <summary>Run the commands that make the files take effect (update-grub, dracut --force, ...) on the live host.</summary>
    [Parameter]
    public SwitchParameter RegenerateBootConfiguration { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var a in Address ?? [])
        {
            if (!IsForThisHost(a))
            {
                _rejected.Add(a);
            }
            else if (PciAddress.TryParse(a, out var parsed))
            {
                _addresses.Add(parsed.ToString());
            }
            else
            {
                _rejected.Add(a);
                WriteCoreError(ErrorCatalog.InvalidAddress(a));
            }
        }
    }

    protected override void EndProcessing()
    {
        // All or nothing: writing the list without a rejected address (with -Replace: dropping it) would quietly
        // leave that device on its host driver at the next boot.
        if (_rejected.Count > 0)
        {
            ThrowTerminatingError(ErrorRecords.From(ErrorCatalog.ConfigurationInputRejected(_rejected)));
        }

        if (Replace && _addresses.Count == 0)
        {
            WriteWarning("-Replace changes nothing without -Address: the boot binding keeps its devices. To take devices out of it, name the ones to keep.");
        }

        var root = ResolveRoot();
        // One writer at a time, from planning to the last write: a second run plans from what the first
        // wrote instead of overwriting it unseen (D6). A preview writes nothing, not even the lock.
        using var held = IsWhatIf ? null : Guard(() => ConfigurationLock.Acquire(root, ConfigurationLock.DefaultTimeout, StopToken, WriteVerbose));
        var devices = SessionFor(root).Devices;
        var request = new HostConfigurationRequest
        {
            Addresses = _addresses.Distinct().ToList(),
            Replace = Replace,
            IncludeGroup = IncludeGroup,
            BlacklistDrivers = BlacklistDriver ?? [],
            RemoveBlacklistDrivers = RemoveBlacklistDriver ?? [],
            SoftdepDrivers = SoftdepDriver ?? [],
            VfioPciIds = (VfioPciId ?? []).Select(i => i.ToLowerInvariant()).ToList(),
            Iommu = Iommu == "Auto" ? null : Iommu.ToLowerInvariant(),
            IommuPassthrough = IommuPassthrough,
            KernelCommandLine = !SkipKernelCommandLine,
            BootLoader = BootLoader,
            Initramfs = Initramfs,
            KernelRelease = KernelRelease,
            UdevOwner = UdevOwner,
            UdevGroup = UdevGroup,
            UdevMode = UdevMode.Length == 3 ? "0" + UdevMode : UdevMode,
            Force = Force,
            VirtualFunctionCounts = (VirtualFunctionCount ?? []).Cast<System.Collections.DictionaryEntry>()
                .ToDictionary(e => LanguagePrimitives.ConvertTo<string>(e.Key) ?? "", e => LanguagePrimitives.ConvertTo<string>(e.Value) ?? "", StringComparer.OrdinalIgnoreCase),
            VirtualFunctionDriversAutoprobe = VirtualFunctionDriversAutoprobe,
            PersistVirtualFunctions = PersistVirtualFunctions,
            RemoveVirtualFunctionCounts = RemoveVirtualFunctionCount ?? [],
            Ip = VirtualFunctionCount is not null || PersistVirtualFunctions ? PciPassthrough.Sriov.IpCommand.Find(root) : null,
        };

        // Everything is planned (and every refusal raised) before the first file is written.
        var plan = Guard(() => VfioHostConfigurator.Plan(SessionFor(root), request, WriteWarning));
        // -WhatIf runs every check the real run runs: a preview must not pass where the write fails.
        Guard(() => ConfigFiles.EnsureWritable(plan));

        // One confirmation for the whole set, then all of the files written or none (D5).
        var confirmed = ConfigConfirmation.Confirm(this, plan, IsWhatIf);

        Guard(() => ConfigFiles.ApplyAll(confirmed, DateTime.UtcNow));
        foreach (var script in new[] { VfioBindService.ScriptPath, SriovBootService.ScriptPath }.Where(p => confirmed.Any(c => c.Path == p)))
        {
            Guard(() => File.SetUnixFileMode(root.Resolve(script), (UnixFileMode)0b111_101_101));
        }

        WriteObject(plan.Where(c => c.Action == FileAction.Unchanged || confirmed.Contains(c)), enumerateCollection: true);
        var written = confirmed;

        var commands = VfioHostConfigurator.FollowUpCommands(root, written);
        if (commands.Count == 0)
        {
            return;
        }

        if (RegenerateBootConfiguration && root.IsLiveHost)
        {
            foreach (var command in commands)
            {
                Run(command);
            }
        }
        else
        {
            WriteInformation(new HostInformationMessage { Message = "To take effect, run: " + string.Join("; ", commands) + (RegenerateBootConfiguration ? " (not run: -Root is not the live host)" : "") }, ["PSHOST"]);
        }
    }

    private void Run(string command)
    {
        WriteVerbose("Running: " + command);
        var psi = new ProcessStartInfo("sh") { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(command);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            WriteCoreError(ErrorCatalog.FollowUpCommandFailed(command, p.ExitCode, output));
        }
    }
}
