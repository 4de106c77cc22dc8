using System.Text;

namespace PciPassthrough.OpenNebula.Templates;

/// <summary>
/// Reads OpenNebula template text (<c>NAME = "value"</c>, <c>NAME = [ A = "v", B = "w" ]</c>, <c>#</c>
/// comments, names case-insensitive) and returns its PCI sections in order. Every attribute is checked
/// for syntax, PCI sections also for meaning; errors name the line and column.
/// </summary>
public sealed class PciTemplateReader
{
    /// <summary>Templates are small; anything larger is refused before parsing.</summary>
    public const int MaxLength = 1 << 20;

    private readonly string _text;
    private readonly string _source;
    private int _pos;

    private PciTemplateReader(string text, string source)
    {
        _text = text;
        _source = source;
    }

    /// <summary>The PCI sections of <paramref name="text"/>; <paramref name="source"/> names it in errors.</summary>
    public static IReadOnlyList<PciTemplateSection> Read(string text, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var reader = new PciTemplateReader(text, source ?? "template");
        if (text.Length > MaxLength)
        {
            throw ErrorCatalog.TemplateTooLong(reader._source, text.Length, "characters", MaxLength);
        }

        return reader.ReadAll();
    }

    private List<PciTemplateSection> ReadAll()
    {
        var sections = new List<PciTemplateSection>();
        while (SkipBlank())
        {
            var start = _pos;
            var name = Name("an attribute name");
            SkipSpaces();
            Expect('=', $"'=' after {name}");
            SkipSpaces();
            if (Peek() == '[')
            {
                _pos++;
                var pairs = Vector(_pos - 1);
                if (name == "PCI")
                {
                    sections.Add(PciTemplateSection.FromAttributes(pairs, $"PCI section at {Where(start)}"));
                }
            }
            else
            {
                if (name == "PCI")
                {
                    throw Error(start, "PCI must be a vector attribute: PCI = [ NAME = \"value\", ... ].");
                }

                Value(name);
            }
        }

        return sections;
    }

    private List<KeyValuePair<string, string?>> Vector(int open)
    {
        var pairs = new List<KeyValuePair<string, string?>>();
        SkipBlank();
        if (Peek() == ']')
        {
            _pos++;
            return pairs;
        }

        while (true)
        {
            if (_pos >= _text.Length)
            {
                throw Error(open, "'[' is never closed with ']'.");
            }

            var name = Name("an attribute name inside [ ]");
            SkipBlank();
            Expect('=', $"'=' after {name}");
            SkipBlank();
            pairs.Add(new(name, Value(name)));
            SkipBlank();
            if (_pos >= _text.Length)
            {
                throw Error(open, "'[' is never closed with ']'.");
            }

            var c = _text[_pos++];
            if (c == ']')
            {
                return pairs;
            }

            if (c != ',')
            {
                throw Error(_pos - 1, $"expected ',' or ']' but found '{c}'.");
            }

            SkipBlank();
        }
    }

    private string Value(string name)
    {
        if (_pos >= _text.Length)
        {
            throw Error(_pos, $"expected a value for {name} but the text ends.");
        }

        if (_text[_pos] == '"')
        {
            var open = _pos++;
            var sb = new StringBuilder();
            while (_pos < _text.Length)
            {
                var c = _text[_pos++];
                if (c == '"')
                {
                    return sb.ToString();
                }

                if (c == '\\' && _pos < _text.Length)
                {
                    c = _text[_pos++];
                }

                sb.Append(c);
            }

            throw Error(open, $"the quote that opens the value of {name} is never closed.");
        }

        var start = _pos;
        while (_pos < _text.Length && !char.IsWhiteSpace(_text[_pos]) && _text[_pos] is not (',' or ']' or '[' or '"' or '=' or '#'))
        {
            _pos++;
        }

        return _pos > start ? _text[start.._pos] : throw Error(start, $"expected a value for {name} but found '{_text[start]}'.");
    }

    private string Name(string what)
    {
        var start = _pos;
        while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] is '_' or '-'))
        {
            _pos++;
        }

        if (_pos == start)
        {
            throw Error(start, _pos < _text.Length ? $"expected {what} but found '{_text[_pos]}'." : $"expected {what} but the text ends.");
        }

        return _text[start.._pos].ToUpperInvariant();
    }

    private void Expect(char c, string what)
    {
        if (_pos >= _text.Length || _text[_pos] != c)
        {
            throw Error(_pos, _pos < _text.Length ? $"expected {what} but found '{_text[_pos]}'." : $"expected {what} but the text ends.");
        }

        _pos++;
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private void SkipSpaces()
    {
        while (_pos < _text.Length && _text[_pos] is ' ' or '\t')
        {
            _pos++;
        }
    }

    /// <summary>Skips white space, new lines and comments; false at the end of the text.</summary>
    private bool SkipBlank()
    {
        while (_pos < _text.Length)
        {
            if (char.IsWhiteSpace(_text[_pos]))
            {
                _pos++;
            }
            else if (_text[_pos] == '#')
            {
                while (_pos < _text.Length && _text[_pos] != '\n')
                {
                    _pos++;
                }
            }
            else
            {
                return true;
            }
        }

        return false;
    }

    // Sections are named in text order, so counting resumes where the last call stopped: one pass over
    // the text in all, not one per section (40,000 sections in 1 MiB took minutes, D18).
    private (int Index, int Line, int Column) _counted = (0, 1, 1);

    private string Where(int index)
    {
        var (from, line, column) = index >= _counted.Index ? _counted : (0, 1, 1);
        for (var i = from; i < index && i < _text.Length; i++)
        {
            if (_text[i] == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }
        }

        _counted = (Math.Min(index, _text.Length), line, column);
        return $"line {line}, column {column}";
    }

    private PciPassthroughException Error(int index, string message) => ErrorCatalog.TemplateSyntax(_source, Where(index), message);
}
