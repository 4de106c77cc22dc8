namespace PciPassthrough.HelpBuilder;

/// <summary>A help page that does not follow the PlatyPS format, with the file and 1-based line to fix.</summary>
internal sealed class HelpFormatException(string file, int line, string message) : Exception(message)
{
    public string File { get; } = file;

    public int Line { get; } = line;

    /// <summary>MSBuild's canonical error format, so the build fails with a clickable file and line.</summary>
    public string ToMSBuildError() => $"{File}({Line}): error HELP001: {Message}";
}
