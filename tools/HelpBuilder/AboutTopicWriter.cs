using System.Text;
using Markdig.Syntax;

namespace PciPassthrough.HelpBuilder;

/// <summary>
/// Renders an about topic (PlatyPS's about markdown) as the plain text Get-Help shows: the first
/// heading as TOPIC, "##" headings in capitals at the margin, "###" headings in capitals and the text
/// indented by four spaces and wrapped at 80 columns, code indented four more.
/// </summary>
internal static class AboutTopicWriter
{
    private const int Width = 80;
    private const string Indent = "    ";

    public static string Render(string file, string source, MarkdownDocument document)
    {
        var blocks = document.ToList();
        if (blocks.FirstOrDefault() is not HeadingBlock { Level: 1 } title)
        {
            throw new HelpFormatException(file, blocks.Count == 0 ? 1 : MarkdownText.LineOf(blocks[0]), "an about topic starts with '# about_<Name>'.");
        }

        var name = MarkdownText.InlineText(title.Inline);
        if (!string.Equals(name, Path.GetFileNameWithoutExtension(file), StringComparison.OrdinalIgnoreCase))
        {
            throw new HelpFormatException(file, MarkdownText.LineOf(title), $"the topic is named '{name}' but its file is {Path.GetFileName(file)}.");
        }

        var text = new StringBuilder().Append("TOPIC\n").Append(Indent).Append(name).Append("\n\n");
        foreach (var block in blocks.Skip(1))
        {
            switch (block)
            {
                case HeadingBlock { Level: 1 } heading:
                    throw new HelpFormatException(file, MarkdownText.LineOf(heading), "an about topic has one '#' heading, its name; sections are '##'.");
                case HeadingBlock { Level: 2 } heading:
                    text.Append(MarkdownText.InlineText(heading.Inline).ToUpperInvariant()).Append('\n');
                    break;
                case HeadingBlock heading:
                    text.Append(Indent).Append(MarkdownText.InlineText(heading.Inline).ToUpperInvariant()).Append('\n');
                    break;
                default:
                    AppendBlock(text, block, source, Indent);
                    text.Append('\n');
                    break;
            }
        }

        return text.ToString().TrimEnd() + "\n";
    }

    private static void AppendBlock(StringBuilder text, Block block, string source, string indent)
    {
        switch (block)
        {
            case ParagraphBlock paragraph:
                foreach (var line in MarkdownText.InlineText(paragraph.Inline).Split('\n'))
                {
                    Wrap(text, line.Trim(), indent, indent);
                }

                break;
            case CodeBlock code:
                foreach (var line in MarkdownText.CodeText(code).Split('\n'))
                {
                    text.Append((indent + Indent + line).TrimEnd()).Append('\n');
                }

                break;
            case ListBlock list:
                AppendList(text, list, source, indent);
                break;
            default:
                foreach (var line in MarkdownText.Lines([block], source))
                {
                    text.Append((indent + line).TrimEnd()).Append('\n');
                }

                break;
        }
    }

    private static void AppendList(StringBuilder text, ListBlock list, string source, string indent)
    {
        var number = int.TryParse(list.OrderedStart, out var start) ? start : 1;
        foreach (var item in list.OfType<ListItemBlock>())
        {
            var bullet = list.IsOrdered ? $"{number++}{list.OrderedDelimiter} " : $"{list.BulletType} ";
            var hanging = indent + new string(' ', bullet.Length);
            var first = true;
            foreach (var child in item)
            {
                if (first && child is ParagraphBlock paragraph)
                {
                    // The bullet leads the item's first paragraph; its wrapped lines hang under the text.
                    Wrap(text, MarkdownText.InlineText(paragraph.Inline).Replace('\n', ' '), indent + bullet, hanging);
                }
                else
                {
                    if (!first)
                    {
                        text.Append('\n');
                    }

                    AppendBlock(text, child, source, hanging);
                }

                first = false;
            }
        }
    }

    private static void Wrap(StringBuilder text, string words, string firstIndent, string indent)
    {
        var line = new StringBuilder(firstIndent);
        var empty = true;
        foreach (var word in words.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!empty && line.Length + 1 + word.Length > Width)
            {
                text.Append(line).Append('\n');
                line.Clear().Append(indent);
                empty = true;
            }

            line.Append(empty ? "" : " ").Append(word);
            empty = false;
        }

        text.Append(line.ToString().TrimEnd()).Append('\n');
    }
}
