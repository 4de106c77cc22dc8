using System.Management.Automation;
using PciPassthrough.HostConfig;

namespace PciPassthrough.PowerShell.Common;

/// <summary>
/// One question for a whole configuration write, in the future tense, with every file's diff: the answer writes all of
/// the files or none, so a host never holds half a configuration that the module would then call drift.
/// </summary>
internal static class ConfigConfirmation
{
    /// <summary>The changes to write: every changed file when confirmed (or not asked), none when declined or previewed.</summary>
    public static IReadOnlyList<ConfigFileChange> Confirm(Cmdlet cmdlet, IReadOnlyList<ConfigFileChange> plan, bool previewing)
    {
        foreach (var change in plan.Where(c => c.Action == FileAction.Unchanged))
        {
            cmdlet.WriteVerbose($"{change.Path} already says this; nothing to do.");
        }

        var changed = plan.Where(c => c.Action != FileAction.Unchanged).ToList();
        if (changed.Count == 0)
        {
            return [];
        }

        var what = string.Join(", ", changed.Select(c => $"{(c.Action == FileAction.Created ? "create" : "update")} {c.Path}"));
        var diffs = string.Join("\n", changed.Select(c => $"{c.Path}:\n{c.Diff}"));
        if (cmdlet.ShouldProcess(diffs, $"This will {what}. Write {(changed.Count == 1 ? "this file" : $"these {changed.Count} files")}?", "Write the host configuration"))
        {
            return changed;
        }

        if (!previewing)
        {
            cmdlet.WriteWarning($"Nothing was written: {string.Join(", ", changed.Select(c => c.Path))} stay as they were.");
        }

        return [];
    }
}
