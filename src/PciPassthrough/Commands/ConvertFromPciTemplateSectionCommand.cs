using System.Management.Automation;
using System.Text;
using PciPassthrough.OpenNebula.Templates;
using PciPassthrough.PowerShell.Common;

namespace PciPassthrough.PowerShell.Commands;

/// <summary>
/// Reads the PCI sections of OpenNebula template text back into section objects. Piped strings are
/// joined with new lines and read once, so <c>Get-Content template | ConvertFrom-PciTemplateSection</c>
/// reads a file that arrives line by line.
/// </summary>
[Cmdlet(VerbsData.ConvertFrom, "PciTemplateSection", DefaultParameterSetName = "Template")]
[OutputType(typeof(PciTemplateSection))]
public sealed class ConvertFromPciTemplateSectionCommand : PSCmdlet
{
    private readonly StringBuilder _text = new();

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = "Template")]
    [AllowEmptyString]
    public string[] Template { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = "Path")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    protected override void ProcessRecord()
    {
        if (ParameterSetName != "Template")
        {
            return;
        }

        foreach (var t in Template)
        {
            _text.Append(t).Append('\n');
            if (_text.Length > PciTemplateReader.MaxLength + 1)
            {
                break; // the reader reports the size; do not buffer more
            }
        }
    }

    protected override void EndProcessing()
    {
        try
        {
            var sections = ParameterSetName == "Path"
                ? PciTemplateReader.Read(ReadFile(GetUnresolvedProviderPathFromPSPath(Path)), Path)
                : PciTemplateReader.Read(_text.ToString().TrimEnd('\n'));
            foreach (var s in sections)
            {
                WriteObject(s);
            }
        }
        catch (PciPassthroughException e)
        {
            ThrowTerminatingError(ErrorRecords.From(e));
        }
    }

    private static string ReadFile(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > PciTemplateReader.MaxLength * 4L)
            {
                throw ErrorCatalog.TemplateTooLong(path, info.Length, "bytes", PciTemplateReader.MaxLength);
            }

            return PciPassthrough.HostFs.BoundedFile.ReadText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ErrorCatalog.TemplateUnreadable(path, e);
        }
    }
}
