using System.Management.Automation;
using PciPassthrough.HostConfig;
using PciPassthrough.OpenNebula;
using PciPassthrough.OpenNebula.Probe;
using PciPassthrough.PowerShell.Common;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>Changes OpenNebula's probe filter (pci.conf): only the keys given, every other line and key kept.</summary>
[Cmdlet(VerbsCommon.Set, "PciProbeFilter", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ConfigFileChange))]
public sealed class SetPciProbeFilterCommand : PciCmdletBase
{
    /// <summary>What this command writes is configuration: an unanticipated I/O failure is a failed configuration write.</summary>
    protected override string UnexpectedIoErrorId => ErrorIds.ConfigWriteFailed;

    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>lspci -d filters; '0:0' reports nothing, '*:*' everything.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Filter { get; set; }

    /// <summary>Exact lspci slot strings; an empty array clears the list.</summary>
    [Parameter]
    [AllowEmptyCollection]
    [ValidateNotNull]
    public string[]? ShortAddress { get; set; }

    /// <summary>Device-name regular expressions; an empty array clears the list.</summary>
    [Parameter]
    [AllowEmptyCollection]
    [ValidateNotNull]
    public string[]? DeviceName { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? NvidiaVendors { get; set; }

    protected override void ProcessRecord()
    {
        var root = ResolveRoot();
        var fullPath = ProbeFilterFiles.Locate(this, Path, root);
        if (Path is null)
        {
            // OpenNebula's file under -Root: a linked folder must not carry the write off the root.
            Guard(() => root.EnsureWithin(fullPath));
        }
        Guard(() => ProbeFilterValues.Validate(Filter, ShortAddress, DeviceName, NvidiaVendors));
        var format = DependencyLoadContext.ProbeFilterFormat;
        // Without -Path the file is OpenNebula's, named by its host path whatever the root.
        var displayPath = Path is null ? ProbeFilterFiles.DefaultHostPath : fullPath;
        // Two runs at once each edit their own keys of one file: the folder's lock makes the second plan
        // from what the first wrote (D6). A preview writes nothing and takes no lock.
        using var held = IsWhatIf || !Directory.Exists(System.IO.Path.GetDirectoryName(fullPath)) ? null : Guard(() => ConfigurationLock.AcquireFolder(fullPath, ConfigurationLock.DefaultTimeout, StopToken, WriteVerbose));
        var change = Guard(() => ConfigFiles.PlanFile(fullPath, displayPath, current =>
        {
            // A file without settings is pci.rb's "Invalid configuration"; nothing in it needs keeping, so it is written as new.
            var old = current is null || !format.HoldsSettings(current, fullPath) ? new PciProbeFilter() : format.Parse(current, fullPath);
            var updated = old.With(Filter, ShortAddress, DeviceName, NvidiaVendors);
            if (updated.UnusableKeys.Count > 0)
            {
                throw ErrorCatalog.ProbeFilterValueUnusable(displayPath, updated.UnusableKeys[0], device: null);
            }

            return format.Render(updated, current, fullPath);
        }));

        // A missing probe folder means no OpenNebula install where one was expected (a wrong -Root or
        // -Path): say so rather than create OpenNebula's tree. Checked before -WhatIf, like every check.
        var folder = System.IO.Path.GetDirectoryName(fullPath)!;
        if (!Directory.Exists(folder))
        {
            ThrowTerminatingError(ErrorRecords.From(ErrorCatalog.ProbeFolderMissing(displayPath, folder, fullPath)));
        }

        // -WhatIf runs the write checks a real run runs: a preview must not pass where the write fails.
        Guard(() => ConfigFiles.EnsureWritable([change]));
        if (change.Action == FileAction.Unchanged)
        {
            WriteVerbose($"{fullPath} already says this; nothing to do.");
            WriteObject(change);
            return;
        }

        if (ShouldProcess($"{fullPath}:\n{change.Diff}", $"Write {fullPath}?", $"{change.Action} {fullPath}"))
        {
            WriteObject(Guard(() => ConfigFiles.Apply(change, DateTime.UtcNow)));
        }
    }
}
