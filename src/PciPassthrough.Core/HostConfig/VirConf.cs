namespace PciPassthrough.HostConfig;

/// <summary>
/// The settings of a libvirt config file (qemu.conf), found as libvirt's own parser (virconf.c) finds
/// them: <c>name = value</c> statements separated by line ends or ';', '#' comments outside strings,
/// strings in "...", '...' or """...""" with no escapes, numbers, and lists <c>[ a, b, ]</c> that may
/// span lines. Only positions and values are read; the text is never rebuilt from them.
/// </summary>
internal static class VirConf
{
    /// <param name="Start">Index of the name.</param>
    /// <param name="End">Index just past the value.</param>
    /// <param name="Strings">The list's strings, or null when the value is not a list of strings.</param>
    /// <param name="Comments">'#' comments inside the list (libvirt itself refuses them there).</param>
    /// <param name="Error">Why the value could not be read, or null.</param>
    internal sealed record Setting(string Name, int Start, int End, IReadOnlyList<string>? Strings, IReadOnlyList<string> Comments, string? Error);

    public static List<Setting> Parse(string text)
    {
        var settings = new List<Setting>();
        var p = new Cursor(text);
        while (true)
        {
            p.SkipBlanksAndEol();
            if (p.AtEnd)
            {
                return settings;
            }

            if (p.Char == '#' || !char.IsAsciiLetter(p.Char))
            {
                p.SkipToEol(); // a comment, or a line libvirt would refuse: the next line may still hold a setting
                continue;
            }

            var start = p.Pos;
            while (!p.AtEnd && (char.IsAsciiLetterOrDigit(p.Char) || p.Char == '_'))
            {
                p.Pos++;
            }

            var name = text[start..p.Pos];
            p.SkipBlanks();
            if (p.AtEnd || p.Char != '=')
            {
                p.SkipToEol();
                continue;
            }

            p.Pos++;
            p.SkipBlanks();
            var comments = new List<string>();
            var error = Value(p, comments, out var strings);
            settings.Add(new Setting(name, start, p.Pos, strings, comments, error));
            if (error is not null)
            {
                p.SkipToEol();
            }
        }
    }

    /// <summary>Reads one value; <paramref name="strings"/> is set only for a list of strings.</summary>
    private static string? Value(Cursor p, List<string> comments, out List<string>? strings)
    {
        strings = null;
        if (p.AtEnd)
        {
            return "no value after '='";
        }

        if (p.Char is '"' or '\'')
        {
            return String(p, out _);
        }

        if (p.Char is >= '0' and <= '9' or '-' or '+')
        {
            p.Pos++;
            while (!p.AtEnd && char.IsAsciiDigit(p.Char))
            {
                p.Pos++;
            }

            return null;
        }

        if (p.Char != '[')
        {
            return "expecting a value";
        }

        p.Pos++;
        var items = new List<string>();
        var allStrings = true;
        var expectValue = true;
        while (true)
        {
            p.SkipBlanksAndEol();
            if (!p.AtEnd && p.Char == '#')
            {
                var from = p.Pos;
                p.SkipToEol();
                comments.Add(p.Text[from..p.Pos].TrimEnd());
                continue;
            }

            if (p.AtEnd)
            {
                return "the list is not closed with ]";
            }

            if (p.Char == ']')
            {
                p.Pos++;
                strings = allStrings ? items : null;
                return null;
            }

            if (!expectValue)
            {
                if (p.Char != ',')
                {
                    return "expecting ',' between list entries";
                }

                p.Pos++;
                expectValue = true;
                continue;
            }

            if (p.Char is '"' or '\'')
            {
                var error = String(p, out var s);
                if (error is not null)
                {
                    return error;
                }

                items.Add(s!);
            }
            else if (Value(p, comments, out _) is { } error)
            {
                return error;
            }
            else
            {
                allStrings = false;
            }

            expectValue = false;
        }
    }

    private static string? String(Cursor p, out string? value)
    {
        value = null;
        var text = p.Text;
        if (text.AsSpan(p.Pos).StartsWith("\"\"\"", StringComparison.Ordinal))
        {
            var close = text.IndexOf("\"\"\"", p.Pos + 3, StringComparison.Ordinal);
            if (close < 0)
            {
                return "unterminated string";
            }

            value = text[(p.Pos + 3)..close];
            p.Pos = close + 3;
            return null;
        }

        var quote = p.Char;
        var end = p.Pos + 1;
        while (end < text.Length && text[end] != quote && text[end] is not ('\n' or '\r'))
        {
            end++;
        }

        if (end >= text.Length || text[end] != quote)
        {
            return "unterminated string";
        }

        value = text[(p.Pos + 1)..end];
        p.Pos = end + 1;
        return null;
    }

    private sealed class Cursor(string text)
    {
        public string Text { get; } = text;

        public int Pos { get; set; }

        public bool AtEnd => Pos >= Text.Length;

        public char Char => Text[Pos];

        public void SkipBlanks()
        {
            while (!AtEnd && Char is ' ' or '\t')
            {
                Pos++;
            }
        }

        public void SkipBlanksAndEol()
        {
            while (!AtEnd && Char is ' ' or '\t' or '\n' or '\r' or ';')
            {
                Pos++;
            }
        }

        public void SkipToEol()
        {
            while (!AtEnd && Char is not ('\n' or '\r'))
            {
                Pos++;
            }
        }
    }
}
