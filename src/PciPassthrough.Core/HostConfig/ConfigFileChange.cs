namespace PciPassthrough.HostConfig;

/// <summary>What a configuration write did, or would do, to one file.</summary>
public enum FileAction
{
    Created,
    Updated,
    Unchanged,
}

/// <summary>One file's change: the planned content, its unified diff, and after applying, the backup.</summary>
public sealed class ConfigFileChange
{
    internal ConfigFileChange(string path, string fullPath, string? oldContent, string newContent)
    {
        Path = path;
        FullPath = fullPath;
        OldContent = oldContent;
        NewContent = newContent;
        Action = oldContent is null ? FileAction.Created : oldContent == newContent ? FileAction.Unchanged : FileAction.Updated;
        Diff = UnifiedDiff.Create(oldContent, newContent, path);
    }

    /// <summary>The host path (/etc/modprobe.d/vfio.conf), whatever the root.</summary>
    public string Path { get; }

    public FileAction Action { get; }

    /// <summary>The change as a unified diff; empty when unchanged.</summary>
    public string Diff { get; }

    /// <summary>The host path of the previous content's copy, once written; null for a new or unchanged file.</summary>
    public string? Backup { get; internal set; }

    internal string FullPath { get; }

    /// <summary>The root the file must stay within; null for a file the caller named outright.</summary>
    internal HostFs.HostRoot? Root { get; init; }

    /// <summary>How the file's bytes hold its text, kept by the rewrite.</summary>
    internal TextForm Form { get; init; }

    /// <summary>The host path written: <see cref="Path"/>, or the file it links to.</summary>
    internal string? WrittenPath { get; init; }

    internal string? OldContent { get; }

    internal string NewContent { get; }

    public override string ToString() => $"{Path}: {Action}";
}
