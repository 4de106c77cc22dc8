using System.Text;

namespace PciPassthrough.HostConfig;

/// <summary>
/// The value of a shell assignment in /etc/default/grub (a file grub-mkconfig sources), read as the shell
/// reads it (D13): one single-quoted string (every character literal), one double-quoted string
/// (<c>$VAR</c> expands; <c>\"</c>, <c>\$</c>, <c>\\</c>, <c>\`</c> are escapes) or one unquoted word,
/// then optionally a <c># comment</c>. The value is kept in "double-quoted form": literal characters
/// that are special inside double quotes are escaped, expansions are left as written, so writing it
/// back between double quotes means exactly what it meant before, whatever quotes it had.
/// </summary>
internal static class ShellValue
{
    /// <summary>The parsed value in double-quoted form, the quote it had ('\0' for none), and what followed it (blanks and a comment).</summary>
    public readonly record struct Parsed(string Value, char Quote, string Trailer);

    /// <exception cref="FormatException">The value is not one string the module can rewrite safely; the message says why.</exception>
    public static Parsed Parse(string rhs)
    {
        var sb = new StringBuilder();
        int end;
        var quote = rhs.Length > 0 && rhs[0] is '\'' or '"' ? rhs[0] : '\0';
        if (quote == '\'')
        {
            end = rhs.IndexOf('\'', 1);
            if (end < 0)
            {
                throw new FormatException("unbalanced quotes");
            }

            foreach (var c in rhs.AsSpan(1, end - 1))
            {
                AppendLiteral(sb, c);
            }

            end++;
        }
        else if (quote == '"')
        {
            end = ParseDoubleQuoted(rhs, sb);
        }
        else
        {
            end = 0;
            while (end < rhs.Length && rhs[end] is not (' ' or '\t'))
            {
                end = rhs[end] switch
                {
                    '\'' or '"' or '\\' or '`' => throw new FormatException("not one quoted string"),
                    '$' => Expansion(rhs, end, sb),
                    _ => Append(sb, rhs[end], end),
                };
            }
        }

        var trailer = rhs[end..];
        var rest = trailer.TrimStart(' ', '\t');
        if (rest.Length > 0 && (rest[0] != '#' || rest.Length == trailer.Length))
        {
            // 'a'b is one word of two parts; a b runs command b with a in its environment: neither is one value.
            throw new FormatException("not one quoted string");
        }

        return new Parsed(sb.ToString(), quote, trailer);
    }

    /// <summary>The value between double quotes; between single quotes when it had them and still can (nothing expands, no single quote).</summary>
    public static string Render(string value, char quote)
    {
        if (quote == '\'' && !HasExpansion(value) && !Literal(value).Contains('\'', StringComparison.Ordinal))
        {
            return "'" + Literal(value) + "'";
        }

        return "\"" + value + "\"";
    }

    /// <summary>The value as a user reads it: escapes removed, expansions as written.</summary>
    public static string Literal(string value)
    {
        var sb = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && i + 1 < value.Length)
            {
                i++;
            }

            sb.Append(value[i]);
        }

        return sb.ToString();
    }

    /// <summary>Whether the value expands a variable: a <c>$</c> not escaped.</summary>
    public static bool HasExpansion(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\')
            {
                i++;
            }
            else if (value[i] == '$')
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Replaces the expansions of <paramref name="name"/> ($NAME, ${NAME}) with <paramref name="previous"/>.</summary>
    public static string Substitute(string value, string name, string previous)
    {
        var sb = new StringBuilder(value.Length + previous.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && i + 1 < value.Length)
            {
                sb.Append(value, i, 2);
                i++;
                continue;
            }

            var braced = string.CompareOrdinal(value, i, "${" + name + "}", 0, name.Length + 3) == 0;
            var bare = !braced && string.CompareOrdinal(value, i, "$" + name, 0, name.Length + 1) == 0
                && (i + name.Length + 1 == value.Length || !(char.IsAsciiLetterOrDigit(value[i + name.Length + 1]) || value[i + name.Length + 1] == '_'));
            if (braced || bare)
            {
                sb.Append(previous);
                i += name.Length + (braced ? 2 : 0);
                continue;
            }

            sb.Append(value[i]);
        }

        return sb.ToString();
    }

    private static int ParseDoubleQuoted(string rhs, StringBuilder sb)
    {
        var i = 1;
        while (i < rhs.Length)
        {
            var c = rhs[i];
            if (c == '"')
            {
                return i + 1;
            }

            if (c == '\\' && i + 1 < rhs.Length)
            {
                // Inside double quotes a backslash escapes only $ ` " \; before anything else it is literal.
                var next = rhs[i + 1];
                sb.Append('\\').Append(next is '$' or '`' or '"' or '\\' ? next : '\\');
                i += next is '$' or '`' or '"' or '\\' ? 2 : 1;
                continue;
            }

            i = c switch
            {
                '`' => throw new FormatException("command substitution, which the module cannot rewrite safely"),
                '$' => Expansion(rhs, i, sb),
                _ => Append(sb, c, i),
            };
        }

        throw new FormatException("unbalanced quotes");
    }

    // $NAME or ${NAME} is kept as written; $( is a command substitution; a lone $ is literal.
    private static int Expansion(string rhs, int i, StringBuilder sb)
    {
        var next = i + 1 < rhs.Length ? rhs[i + 1] : '\0';
        if (next == '(')
        {
            throw new FormatException("command substitution, which the module cannot rewrite safely");
        }

        if (next == '{')
        {
            var close = rhs.IndexOf('}', i);
            if (close < 0)
            {
                throw new FormatException("an unclosed ${");
            }

            sb.Append(rhs, i, close - i + 1);
            return close + 1;
        }

        var j = i + 1;
        while (j < rhs.Length && (char.IsAsciiLetterOrDigit(rhs[j]) || rhs[j] == '_'))
        {
            j++;
        }

        if (j == i + 1)
        {
            AppendLiteral(sb, '$');
            return j;
        }

        sb.Append(rhs, i, j - i);
        return j;
    }

    private static int Append(StringBuilder sb, char c, int i)
    {
        sb.Append(c);
        return i + 1;
    }

    private static void AppendLiteral(StringBuilder sb, char c)
    {
        if (c is '$' or '`' or '"' or '\\')
        {
            sb.Append('\\');
        }

        sb.Append(c);
    }
}
