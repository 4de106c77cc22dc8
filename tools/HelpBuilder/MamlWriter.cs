using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace PciPassthrough.HelpBuilder;

/// <summary>
/// Writes commands as the MAML file that PlatyPS's New-ExternalHelp produces: the same elements,
/// attributes, namespaces and conventions (padded example titles, "None" defaults, switch syntax).
/// </summary>
internal static class MamlWriter
{
    private static readonly XNamespace Msh = "http://msh";
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";
    private static readonly XNamespace MSHelp = "http://msdn.microsoft.com/mshelp";

    public static void Write(string path, IEnumerable<CommandHelp> commands)
    {
        var document = new XDocument(
            new XDeclaration("1.0", "utf-8", null),
            new XElement(Msh + "helpItems", new XAttribute("schema", "maml"), commands.Select(CommandElement)));
        var settings = new XmlWriterSettings { Indent = true, IndentChars = "  ", Encoding = new UTF8Encoding(false), NewLineChars = "\n" };
        using var writer = XmlWriter.Create(path, settings);
        document.Save(writer);
    }

    private static XElement CommandElement(CommandHelp command)
    {
        var dash = command.Name.IndexOf('-', StringComparison.Ordinal);
        return new XElement(Command + "command",
            new XAttribute(XNamespace.Xmlns + "maml", Maml),
            new XAttribute(XNamespace.Xmlns + "command", Command),
            new XAttribute(XNamespace.Xmlns + "dev", Dev),
            new XAttribute(XNamespace.Xmlns + "MSHelp", MSHelp),
            new XElement(Command + "details",
                new XElement(Command + "name", command.Name),
                new XElement(Command + "verb", dash < 0 ? command.Name : command.Name[..dash]),
                new XElement(Command + "noun", dash < 0 ? "" : command.Name[(dash + 1)..]),
                new XElement(Maml + "description", Paragraphs(command.Synopsis))),
            new XElement(Maml + "description", Paragraphs(command.Description)),
            new XElement(Command + "syntax", command.Syntax.Select(s => SyntaxItemElement(command, s))),
            new XElement(Command + "parameters", command.Parameters.Select(p => ParameterElement(p, p.Metadata[0], inSyntax: false))),
            new XElement(Command + "inputTypes", command.Inputs.Select(t => TypeElement("inputType", t))),
            new XElement(Command + "returnValues", command.Outputs.Select(t => TypeElement("returnValue", t))),
            new XElement(Maml + "alertSet", new XElement(Maml + "alert", Paragraphs(command.Notes))),
            new XElement(Command + "examples", command.Examples.Select(ExampleElement)),
            new XElement(Command + "relatedLinks", command.Links.Select(LinkElement)));
    }

    /// <summary>One maml:para per line; blank lines are dropped except the one PlatyPS keeps after a list.</summary>
    private static IEnumerable<XElement> Paragraphs(IReadOnlyList<string> lines)
    {
        for (var i = 0; i < lines.Count; i++)
        {
            var afterList = i > 0 && lines[i - 1].StartsWith("- ", StringComparison.Ordinal);
            if (lines[i].Length > 0 || afterList)
            {
                yield return new XElement(Maml + "para", lines[i]);
            }
        }
    }

    private static XElement SyntaxItemElement(CommandHelp command, SyntaxItem item) =>
        new(Command + "syntaxItem",
            new XElement(Maml + "name", command.Name),
            item.Parameters.Select(p => ParameterElement(p.Parameter, p.Metadata, inSyntax: true)));

    private static XElement ParameterElement(ParameterHelp parameter, ParameterMetadata metadata, bool inSyntax)
    {
        var type = metadata.IsSwitch ? "SwitchParameter" : metadata.Type;
        return new XElement(Command + "parameter",
            new XAttribute("required", metadata.Required),
            new XAttribute("variableLength", true),
            new XAttribute("globbing", metadata.Globbing),
            new XAttribute("pipelineInput", metadata.PipelineInput),
            new XAttribute("position", int.TryParse(metadata.Position, out var position) ? position.ToString(System.Globalization.CultureInfo.InvariantCulture) : "named"),
            new XAttribute("aliases", metadata.Aliases.Count > 0 ? string.Join(", ", metadata.Aliases) : "none"),
            new XElement(Maml + "name", parameter.Name),
            new XElement(Maml + "Description", Paragraphs(parameter.Description)),
            inSyntax && metadata.AcceptedValues.Count > 0
                ? new XElement(Command + "parameterValueGroup", metadata.AcceptedValues.Select(v =>
                    new XElement(Command + "parameterValue", new XAttribute("required", false), new XAttribute(Command + "variableLength", false), v)))
                : null,
            // Get-Help shows "-Quiet" rather than "-Quiet <SwitchParameter>" in a syntax line.
            inSyntax && metadata.IsSwitch
                ? null
                : new XElement(Command + "parameterValue", new XAttribute("required", !metadata.IsSwitch), new XAttribute("variableLength", false), type),
            new XElement(Dev + "type", new XElement(Maml + "name", type), new XElement(Maml + "uri")),
            new XElement(Dev + "defaultValue", metadata.IsSwitch && metadata.DefaultValue is null or "None" ? "False" : metadata.DefaultValue ?? "None"));
    }

    private static XElement TypeElement(string element, TypeHelp type) =>
        new(Command + element,
            new XElement(Dev + "type", new XElement(Maml + "name", type.TypeName)),
            new XElement(Maml + "description", Paragraphs(type.Description)));

    private static XElement ExampleElement(ExampleHelp example) =>
        new(Command + "example",
            new XElement(Maml + "title", PadTitle(example.Title)),
            new XElement(Dev + "code", example.Code),
            new XElement(Dev + "remarks", Paragraphs(example.Remarks)));

    private static XElement LinkElement(LinkHelp link) =>
        new(Maml + "navigationLink", new XElement(Maml + "linkText", link.Text), new XElement(Maml + "uri", link.Uri));

    /// <summary>PlatyPS centres a short title in dashes, 64 characters wide, as Get-Help's own examples look.</summary>
    private static string PadTitle(string title)
    {
        if (title.Length >= 62)
        {
            return title;
        }

        var dashes = new string('-', (64 - title.Length - 2) / 2);
        return $"{dashes} {title} {dashes}";
    }
}
