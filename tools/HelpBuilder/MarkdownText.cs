using System.Text;
using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace PciPassthrough.HelpBuilder;

/// <summary>Markdig parsing and the plain text of blocks, as PlatyPS puts them into MAML.</summary>
internal static class MarkdownText
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseYamlFrontMatter().UsePipeTables().Build();

    public static MarkdownDocument Parse(string text) => Markdown.Parse(text, Pipeline);

    /// <summary>The 1-based line of a block, for error messages.</summary>
    public static int LineOf(Block block) => block.Line + 1;

    /// <summary>
    /// The lines of a run of blocks, one per maml:para. Inline markup stays as written (backticks), as
    /// PlatyPS keeps it; wrapped lines join; a list has one line per item and an empty line after it,
    /// which is where PlatyPS puts an empty para so that Get-Help separates the list from what follows.
    /// </summary>
    public static List<string> Lines(IEnumerable<Block> blocks, string source)
    {
        var lines = new List<string>();
        foreach (var block in blocks)
        {
            AddLines(lines, block, source, indent: "");
        }

        return lines;
    }

    public static string InlineText(ContainerInline? inlines)
    {
        var sb = new StringBuilder();
        AppendInlines(sb, inlines);
        return sb.ToString().Trim();
    }

    public static string CodeText(LeafBlock code) => code.Lines.ToString().TrimEnd();

    /// <summary>The source text of a block as written (tables, HTML).</summary>
    public static IEnumerable<string> SourceLines(Block block, string source) =>
        source.Substring(block.Span.Start, block.Span.Length).Split('\n').Select(l => l.TrimEnd());

    private static void AddLines(List<string> lines, Block block, string source, string indent)
    {
        switch (block)
        {
            case ParagraphBlock paragraph:
                lines.AddRange(InlineText(paragraph.Inline).Split('\n').Select(l => indent + l.Trim()));
                break;
            case HeadingBlock heading:
                lines.Add(indent + InlineText(heading.Inline));
                break;
            case CodeBlock code:
                lines.AddRange(CodeText(code).Split('\n').Select(l => (indent + "    " + l).TrimEnd()));
                break;
            case ListBlock list:
                AddList(lines, list, source, indent);
                break;
            case Table or HtmlBlock:
                lines.AddRange(SourceLines(block, source).Select(l => indent + l.Trim()));
                break;
            case ThematicBreakBlock or LinkReferenceDefinitionGroup:
                break;
            case ContainerBlock container:
                foreach (var child in container)
                {
                    AddLines(lines, child, source, indent);
                }

                break;
            default:
                lines.AddRange(SourceLines(block, source).Select(l => indent + l.Trim()));
                break;
        }
    }

    private static void AddList(List<string> lines, ListBlock list, string source, string indent)
    {
        var number = int.TryParse(list.OrderedStart, out var start) ? start : 1;
        foreach (var item in list.OfType<ListItemBlock>())
        {
            var bullet = list.IsOrdered ? $"{number++}{list.OrderedDelimiter} " : $"{list.BulletType} ";
            var itemLines = new List<string>();
            foreach (var child in item)
            {
                AddLines(itemLines, child, source, indent + "  ");
            }

            for (var i = 0; i < itemLines.Count; i++)
            {
                // The item's first line carries the bullet; the rest stay indented under it.
                lines.Add(i == 0 ? indent + bullet + itemLines[i].TrimStart() : itemLines[i]);
            }
        }

        if (indent.Length == 0)
        {
            lines.Add("");
        }
    }

    private static void AppendInlines(StringBuilder sb, ContainerInline? container)
    {
        for (var inline = container?.FirstChild; inline is not null; inline = inline.NextSibling)
        {
            switch (inline)
            {
                case LiteralInline literal:
                    sb.Append(literal.Content);
                    break;
                case CodeInline code:
                    sb.Append(code.Delimiter, code.DelimiterCount).Append(code.Content).Append(code.Delimiter, code.DelimiterCount);
                    break;
                case LineBreakInline lineBreak:
                    sb.Append(lineBreak.IsHard ? '\n' : ' ');
                    break;
                case LinkInline link:
                    // As PlatyPS: the link text, then the target in parentheses (Get-Help shows no links).
                    AppendInlines(sb, link);
                    if (!string.IsNullOrEmpty(link.Url))
                    {
                        sb.Append(" (").Append(link.Url).Append(')');
                    }

                    break;
                case AutolinkInline autolink:
                    // As written: "<Root>/sys/.../<DDDD:BB:SS.F>" parses as an autolink but is a placeholder.
                    sb.Append('<').Append(autolink.Url).Append('>');
                    break;
                case HtmlEntityInline entity:
                    sb.Append(entity.Transcoded);
                    break;
                case HtmlInline html:
                    sb.Append(html.Tag);
                    break;
                case EmphasisInline emphasis:
                    sb.Append(emphasis.DelimiterChar, emphasis.DelimiterCount);
                    AppendInlines(sb, emphasis);
                    sb.Append(emphasis.DelimiterChar, emphasis.DelimiterCount);
                    break;
                case ContainerInline nested:
                    AppendInlines(sb, nested);
                    break;
                default:
                    sb.Append(inline.ToString());
                    break;
            }
        }
    }
}
