using System.Text.RegularExpressions;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace PciPassthrough.HelpBuilder;

/// <summary>
/// Reads a cmdlet page in PlatyPS 0.14 markdown (front matter, "# Verb-Noun", then "## SYNOPSIS" ...
/// "## RELATED LINKS") into a <see cref="CommandHelp"/>, following PlatyPS's own grammar, and throws a
/// <see cref="HelpFormatException"/> with the file and line of anything that does not fit it.
/// </summary>
internal sealed partial class CommandPageReader
{
    private const string AllSets = "(All)";
    private const string DefaultSuffix = " (Default)";

    private static readonly string[] Sections = ["SYNOPSIS", "SYNTAX", "DESCRIPTION", "EXAMPLES", "PARAMETERS", "INPUTS", "OUTPUTS", "NOTES", "RELATED LINKS"];

    private static readonly string[] YamlKeys =
        ["Type", "Parameter Sets", "Aliases", "Accepted values", "Required", "Position", "Default value", "Accept pipeline input", "Accept wildcard characters", "Applicable"];

    private readonly string _file;
    private readonly string _source;

    private CommandPageReader(string file, string source)
    {
        _file = file;
        _source = source;
    }

    public static CommandHelp Read(string file, string source, MarkdownDocument document, string helpFileName) =>
        new CommandPageReader(file, source).Read(document, helpFileName);

    [GeneratedRegex(@"\{\{.*?\}\}")]
    private static partial Regex Placeholder();

    private CommandHelp Read(MarkdownDocument document, string helpFileName)
    {
        var blocks = document.Where(b => b is not Markdig.Extensions.Yaml.YamlFrontMatterBlock).ToList();
        if (blocks.FirstOrDefault() is not HeadingBlock { Level: 1 } title)
        {
            throw Error(blocks.FirstOrDefault(), "a cmdlet page starts, after its front matter, with '# <Verb-Noun>'.");
        }

        var name = MarkdownText.InlineText(title.Inline);
        if (!string.Equals(name, Path.GetFileNameWithoutExtension(_file), StringComparison.OrdinalIgnoreCase))
        {
            throw Error(title, $"the page is named '{name}' but its file is {Path.GetFileName(_file)}: one page per cmdlet, named after it.");
        }

        var sections = SplitSections(blocks.Skip(1));
        if (!sections.TryGetValue("SYNOPSIS", out var synopsis) || Text(synopsis.Body).Count == 0)
        {
            throw Error(synopsis.Heading ?? title, "the page has no synopsis: '## SYNOPSIS' followed by one paragraph.");
        }

        var syntaxSets = sections.TryGetValue("SYNTAX", out var syntax) ? SyntaxSetNames(syntax.Body) : [];
        var parameters = sections.TryGetValue("PARAMETERS", out var parameterSection) ? Parameters(parameterSection.Body, syntaxSets) : [];
        return new CommandHelp(
            name,
            helpFileName,
            Text(synopsis.Body),
            Body(sections, "DESCRIPTION"),
            parameters,
            SyntaxItems(parameters),
            sections.TryGetValue("INPUTS", out var inputs) ? Types(inputs.Body) : [],
            sections.TryGetValue("OUTPUTS", out var outputs) ? Types(outputs.Body) : [],
            Body(sections, "NOTES"),
            sections.TryGetValue("EXAMPLES", out var examples) ? Examples(examples.Body) : [],
            sections.TryGetValue("RELATED LINKS", out var links) ? Links(links.Body) : []);
    }

    private Dictionary<string, (HeadingBlock? Heading, List<Block> Body)> SplitSections(IEnumerable<Block> blocks)
    {
        var sections = new Dictionary<string, (HeadingBlock? Heading, List<Block> Body)>(StringComparer.OrdinalIgnoreCase);
        List<Block>? current = null;
        foreach (var block in blocks)
        {
            if (block is HeadingBlock { Level: <= 2 } heading)
            {
                var text = MarkdownText.InlineText(heading.Inline);
                if (heading.Level == 1 || !Sections.Contains(text, StringComparer.OrdinalIgnoreCase))
                {
                    throw Error(heading, $"unexpected heading '{new string('#', heading.Level)} {text}': a cmdlet page has the sections ## {string.Join(", ## ", Sections)}.");
                }

                if (!sections.TryAdd(text, (heading, current = [])))
                {
                    throw Error(heading, $"the section '## {text}' appears twice.");
                }
            }
            else if (current is null)
            {
                throw Error(block, "text before the first '##' section.");
            }
            else
            {
                current.Add(block);
            }
        }

        return sections;
    }

    private List<string> Body(Dictionary<string, (HeadingBlock? Heading, List<Block> Body)> sections, string name) =>
        sections.TryGetValue(name, out var section) ? Text(section.Body) : [];

    /// <summary>The text of blocks, refusing the "{{ Fill in ... }}" placeholders that New-MarkdownHelp leaves.</summary>
    private List<string> Text(IReadOnlyCollection<Block> blocks)
    {
        var lines = MarkdownText.Lines(blocks, _source);
        var placeholder = lines.Select(l => Placeholder().Match(l)).FirstOrDefault(m => m.Success);
        if (placeholder is not null)
        {
            throw Error(blocks.First(), $"a PlatyPS placeholder is left in the page: {placeholder.Value}");
        }

        return lines;
    }

    /// <summary>Splits a section into its "###" entries; nothing may stand before the first one.</summary>
    private List<(HeadingBlock Heading, List<Block> Body)> Entries(List<Block> section, string what)
    {
        var entries = new List<(HeadingBlock Heading, List<Block> Body)>();
        foreach (var block in section)
        {
            if (block is HeadingBlock { Level: 3 } heading)
            {
                entries.Add((heading, []));
            }
            else if (entries.Count == 0)
            {
                throw Error(block, $"expected '### {what}' here.");
            }
            else
            {
                entries[^1].Body.Add(block);
            }
        }

        return entries;
    }

    private List<string> SyntaxSetNames(List<Block> section)
    {
        var names = new List<string>();
        foreach (var block in section)
        {
            if (block is HeadingBlock { Level: 3 } heading)
            {
                var name = MarkdownText.InlineText(heading.Inline);
                names.Add(name.EndsWith(DefaultSuffix, StringComparison.Ordinal) ? name[..^DefaultSuffix.Length] : name);
            }
            else if (block is not CodeBlock)
            {
                throw Error(block, "SYNTAX holds '### <ParameterSetName>' headings and code blocks only.");
            }
        }

        return names;
    }

    private List<ParameterHelp> Parameters(List<Block> section, List<string> syntaxSets)
    {
        var parameters = new List<ParameterHelp>();
        foreach (var (heading, body) in Entries(section, "-<ParameterName>"))
        {
            var name = MarkdownText.InlineText(heading.Inline).TrimStart('-');
            if (name is "CommonParameters" or "WorkflowParameters")
            {
                continue;
            }

            if (parameters.Any(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                throw Error(heading, $"the parameter -{name} is documented twice.");
            }

            var firstYaml = body.FindIndex(IsYaml);
            if (firstYaml < 0)
            {
                throw Error(heading, $"-{name} has no ```yaml block (Type, Parameter Sets, Aliases, Required, Position, Default value, Accept pipeline input, Accept wildcard characters).");
            }

            var metadata = new List<ParameterMetadata>();
            foreach (var block in body.Skip(firstYaml))
            {
                if (!IsYaml(block))
                {
                    throw Error(block, $"-{name}: its description goes before its ```yaml block, not after it.");
                }

                metadata.Add(Metadata((FencedCodeBlock)block, name, syntaxSets));
            }

            parameters.Add(new ParameterHelp(name, Text(body.Take(firstYaml).ToList()), metadata));
        }

        return parameters;
    }

    private static bool IsYaml(Block block) => block is FencedCodeBlock { Info: "yaml" };

    private ParameterMetadata Metadata(FencedCodeBlock yaml, string parameter, List<string> syntaxSets)
    {
        var pairs = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var lines = MarkdownText.CodeText(yaml).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var key = colon < 0 ? line.Trim() : line[..colon].Trim();
            if (line.Trim().Length == 0)
            {
                continue;
            }

            if (colon < 0 || !YamlKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                // The block starts at its ```yaml fence; content line i is 1 + i lines below it.
                throw new HelpFormatException(_file, MarkdownText.LineOf(yaml) + 1 + i,
                    $"-{parameter}: '{line.Trim()}' is not one of the keys {string.Join(", ", YamlKeys)}, written 'Key: value'.");
            }

            pairs[key] = line[(colon + 1)..].Trim();
        }

        string? Value(string key) => pairs.TryGetValue(key, out var v) && v.Length > 0 ? v : null;
        List<string> List(string key) => Value(key)?.Split(',').Select(s => s.Trim()).Where(s => s.Length > 0).ToList() ?? [];
        bool Flag(string key) => Value(key) switch
        {
            null => false,
            var v when v.Equals("true", StringComparison.OrdinalIgnoreCase) => true,
            var v when v.Equals("false", StringComparison.OrdinalIgnoreCase) => false,
            var v => throw Error(yaml, $"-{parameter}: '{key}: {v}' must be True or False."),
        };

        var type = Value("Type") ?? throw Error(yaml, $"-{parameter}: the ```yaml block has no 'Type:'.");
        var position = Value("Position") ?? "Named";
        if (!position.Equals("Named", StringComparison.OrdinalIgnoreCase) && !int.TryParse(position, out _))
        {
            throw Error(yaml, $"-{parameter}: 'Position: {position}' must be Named or a number.");
        }

        var sets = List("Parameter Sets") is { Count: > 0 } named ? named : [AllSets];
        var unknown = sets.FirstOrDefault(s => s != AllSets && syntaxSets.Count > 0 && !syntaxSets.Contains(s, StringComparer.OrdinalIgnoreCase));
        if (unknown is not null)
        {
            throw Error(yaml, $"-{parameter} is in the parameter set '{unknown}', which SYNTAX does not list ({string.Join(", ", syntaxSets)}).");
        }

        return new ParameterMetadata(
            type, sets, List("Aliases"), List("Accepted values"), Flag("Required"), position, Value("Default value"),
            Value("Accept pipeline input") ?? "False", Flag("Accept wildcard characters"));
    }

    /// <summary>
    /// One syntax item per parameter set, as PlatyPS builds them from the parameters' yaml (it ignores
    /// the SYNTAX code): sets in order of first mention, "(All)" parameters in every set, and the
    /// parameters of a set ordered by position, named ones last.
    /// </summary>
    private static List<SyntaxItem> SyntaxItems(List<ParameterHelp> parameters)
    {
        var setNames = parameters.SelectMany(p => p.Metadata).SelectMany(m => m.ParameterSets).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (setNames.Count == 0)
        {
            return [new SyntaxItem(null, [])];
        }

        if (setNames is [AllSets])
        {
            return [new SyntaxItem(null, InSet(parameters, AllSets))];
        }

        return setNames.Where(s => s != AllSets).Select(s => new SyntaxItem(s, InSet(parameters, s))).ToList();
    }

    private static List<(ParameterHelp, ParameterMetadata)> InSet(List<ParameterHelp> parameters, string set)
    {
        var members = new List<(ParameterHelp Parameter, ParameterMetadata Metadata)>();
        foreach (var parameter in parameters)
        {
            var metadata = parameter.Metadata.FirstOrDefault(m => m.ParameterSets.Contains(set, StringComparer.OrdinalIgnoreCase))
                ?? parameter.Metadata.FirstOrDefault(m => m.ParameterSets is [AllSets]);
            if (metadata is not null)
            {
                members.Add((parameter, metadata));
            }
        }

        return members.OrderBy(m => int.TryParse(m.Metadata.Position, out var p) ? p : int.MaxValue).ToList();
    }

    private List<TypeHelp> Types(List<Block> section) =>
        Entries(section, "<TypeName>").Select(e => new TypeHelp(MarkdownText.InlineText(e.Heading.Inline), Text(e.Body))).ToList();

    /// <summary>An example: its title, its code blocks (code, then output) and the remarks after them.</summary>
    private List<ExampleHelp> Examples(List<Block> section)
    {
        var examples = new List<ExampleHelp>();
        foreach (var (heading, body) in Entries(section, "Example N: <title>"))
        {
            var title = MarkdownText.InlineText(heading.Inline);
            var firstCode = body.FindIndex(b => b is FencedCodeBlock);
            if (firstCode < 0)
            {
                throw Error(heading, $"the example '{title}' has no fenced code block.");
            }

            var code = body.Skip(firstCode).TakeWhile(b => b is FencedCodeBlock).Cast<FencedCodeBlock>().ToList();
            var remarks = body.Take(firstCode).Concat(body.Skip(firstCode + code.Count)).ToList();
            examples.Add(new ExampleHelp(title, string.Join("\n\n", code.Select(MarkdownText.CodeText)), Text(remarks)));
        }

        return examples;
    }

    private List<LinkHelp> Links(List<Block> section)
    {
        var links = new List<LinkHelp>();
        foreach (var block in section)
        {
            if (block is not ParagraphBlock paragraph)
            {
                throw Error(block, "RELATED LINKS holds paragraphs of links only: [text](uri).");
            }

            for (var inline = paragraph.Inline?.FirstChild; inline is not null; inline = inline.NextSibling)
            {
                switch (inline)
                {
                    case LinkInline link:
                        links.Add(new LinkHelp(MarkdownText.InlineText(link), AbsoluteUri(link.Url)));
                        break;
                    case AutolinkInline autolink:
                        links.Add(new LinkHelp(autolink.Url, AbsoluteUri(autolink.Url)));
                        break;
                    case LineBreakInline:
                    case LiteralInline literal when literal.Content.IsEmptyOrWhitespace():
                        break;
                    default:
                        throw Error(block, $"RELATED LINKS holds links only, [text](uri); found '{inline}'.");
                }
            }
        }

        return links;
    }

    /// <summary>Get-Help rejects a relative uri, so a link to a sibling page keeps its text only (as PlatyPS).</summary>
    private static string AbsoluteUri(string? uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https" ? uri! : "";

    private HelpFormatException Error(Block? block, string message) =>
        new(_file, block is null ? 1 : MarkdownText.LineOf(block), message);
}
