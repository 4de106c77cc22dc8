using System.Text;

namespace PciPassthrough.Yaml;

/// <summary>
/// YamlDotNet refuses a double-quoted scalar whose continuation line starts in column 0 ("found wrong
/// indentation"), which Ruby's libyaml, OpenNebula's reader, accepts (D11). Leading blanks of a continuation
/// line are folded away, so one space put in front of such a line leaves the value as it was; the inserted
/// positions are kept so that every parser position can be turned back into one of the original text.
/// </summary>
internal sealed class QuotedContinuation
{
    /// <summary>More multi-line double-quoted values than this is not a pci.conf: the file stays refused.</summary>
    private const int MaxRepairs = 64;

    // Positions of the inserted spaces in the repaired text, ascending: YamlDotNet stops at the first scalar it
    // refuses, so each repair lies after the ones before it.
    private readonly List<int> _inserted = [];

    public static bool IsIndentationError(YamlDotNet.Core.YamlException e) =>
        e.Message.Contains("multi-line double-quoted scalar", StringComparison.Ordinal) && e.Message.Contains("indentation", StringComparison.Ordinal);

    /// <summary>The position in the original text of a position in the repaired one.</summary>
    public int Original(long repaired)
    {
        var before = 0;
        while (before < _inserted.Count && _inserted[before] < repaired)
        {
            before++;
        }

        return (int)repaired - before;
    }

    /// <summary>
    /// Indents the continuation lines of the double-quoted scalar opening at <paramref name="quote"/>; false when
    /// that is not a double-quoted scalar this can repair (unterminated, or a line opening with a document
    /// marker, which libyaml refuses there too), or after too many repairs.
    /// </summary>
    public bool TryRepair(ref string text, int quote)
    {
        if (_inserted.Count >= MaxRepairs || quote < 0 || quote >= text.Length || text[quote] != '"')
        {
            return false;
        }

        var sb = new StringBuilder(text.Length + 8).Append(text, 0, quote + 1);
        var added = new List<int>();
        for (var i = quote + 1; i < text.Length; i++)
        {
            var c = text[i];
            if (text[i - 1] == '\n' && c is not ('\n' or '\r'))
            {
                if (IsDocumentMarker(text, i))
                {
                    return false;
                }

                added.Add(sb.Length);
                sb.Append(' ');
            }

            if (c == '"')
            {
                if (added.Count == 0)
                {
                    return false;
                }

                text = sb.Append(text, i, text.Length - i).ToString();
                _inserted.AddRange(added);
                return true;
            }

            sb.Append(c);
            if (c == '\\' && i + 1 < text.Length)
            {
                sb.Append(text[++i]); // an escaped quote or backslash does not end the scalar
            }
        }

        return false;
    }

    private static bool IsDocumentMarker(string text, int at) =>
        (text.AsSpan(at).StartsWith("---", StringComparison.Ordinal) || text.AsSpan(at).StartsWith("...", StringComparison.Ordinal))
        && (at + 3 == text.Length || char.IsWhiteSpace(text[at + 3]));
}
