using System.Text;
using System.Text.RegularExpressions;

namespace PciPassthrough.Filtering;

/// <summary>
/// A PowerShell-style wildcard (<c>*</c>, <c>?</c>, <c>[a-f]</c>), case-insensitive. The core cannot use
/// WildcardPattern (it does not reference the engine), and needs only this subset.
/// </summary>
internal sealed class Glob
{
    private readonly Regex _regex;

    private Glob(string pattern, Regex regex)
    {
        Pattern = pattern;
        _regex = regex;
    }

    public string Pattern { get; }

    public static bool HasWildcards(string text) => text.AsSpan().IndexOfAny("*?[") >= 0;

    /// <summary>Compiles the pattern; false when a bracket is unbalanced.</summary>
    public static bool TryCreate(string pattern, out Glob glob)
    {
        glob = null!;
        var sb = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*':
                    sb.Append(".*");
                    break;
                case '?':
                    sb.Append('.');
                    break;
                case '[':
                    var close = pattern.IndexOf(']', i + 1);
                    if (close < 0 || close == i + 1)
                    {
                        return false;
                    }

                    sb.Append('[');
                    foreach (var m in pattern.AsSpan(i + 1, close - i - 1))
                    {
                        sb.Append(m is '\\' or '^' or '[' ? "\\" + m : m.ToString());
                    }

                    sb.Append(']');
                    i = close;
                    break;
                case ']':
                    return false;
                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        sb.Append('$');
        try
        {
            glob = new Glob(pattern, new Regex(sb.ToString(), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public bool IsMatch(string? value) => value is not null && _regex.IsMatch(value);

    public override string ToString() => Pattern;
}
