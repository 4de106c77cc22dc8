using Markdig.Extensions.Yaml;
using PciPassthrough.HelpBuilder;

// HelpBuilder <docs folder> <output folder>
// Writes <output>/<external help file> (the MAML of every cmdlet page, grouped by the page's
// "external help file" front matter, as New-ExternalHelp groups them) and <output>/about_*.help.txt.
// A malformed page fails with "file(line): error HELP001: ..." so that MSBuild reports it as such.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: HelpBuilder <docs folder> <output folder>");
    return 2;
}

var (docs, output) = (Path.GetFullPath(args[0]), Path.GetFullPath(args[1]));
try
{
    var commands = new List<CommandHelp>();
    var written = new List<string>();
    Directory.CreateDirectory(output);
    foreach (var file in Directory.GetFiles(docs, "*.md").Order(StringComparer.Ordinal))
    {
        var source = File.ReadAllText(file).ReplaceLineEndings("\n");
        var document = MarkdownText.Parse(source);
        if (Path.GetFileName(file).StartsWith("about_", StringComparison.OrdinalIgnoreCase))
        {
            var topic = Path.Combine(output, Path.GetFileNameWithoutExtension(file) + ".help.txt");
            File.WriteAllText(topic, AboutTopicWriter.Render(file, source, document));
            written.Add(topic);
            continue;
        }

        var frontMatter = FrontMatter(document, source);
        if (frontMatter.TryGetValue("external help file", out var helpFile) && helpFile.Length > 0)
        {
            commands.Add(CommandPageReader.Read(file, source, document, helpFile));
        }
        else if (!frontMatter.ContainsKey("Module Name"))
        {
            throw new HelpFormatException(file, 1, "not a PlatyPS page: a cmdlet page's front matter names its 'external help file', a module page's its 'Module Name'; about topics are about_*.md.");
        }
    }

    foreach (var group in commands.GroupBy(c => c.HelpFileName, StringComparer.OrdinalIgnoreCase))
    {
        var maml = Path.Combine(output, group.Key);
        MamlWriter.Write(maml, group.OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase));
        written.Add(maml);
    }

    // A renamed or deleted page must not leave its old help behind in the module.
    foreach (var stale in Directory.GetFiles(output, "*-Help.xml").Concat(Directory.GetFiles(output, "about_*.help.txt")).Except(written))
    {
        File.Delete(stale);
    }

    var topics = written.Count(f => Path.GetFileName(f).StartsWith("about_", StringComparison.Ordinal));
    Console.WriteLine($"HelpBuilder: {commands.Count} cmdlet(s) and {topics} about topic(s) -> {output}");
    return 0;
}
catch (HelpFormatException e)
{
    Console.Error.WriteLine(e.ToMSBuildError());
    return 1;
}

static Dictionary<string, string> FrontMatter(Markdig.Syntax.MarkdownDocument document, string source)
{
    var pairs = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
    if (document.FirstOrDefault() is YamlFrontMatterBlock block)
    {
        foreach (var line in MarkdownText.SourceLines(block, source))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                pairs[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
        }
    }

    return pairs;
}
