using System.Text.RegularExpressions;

namespace PciPassthrough.Yaml;

/// <summary>
/// What Ruby's Psych (OpenNebula's YAML reader) makes of a plain, unquoted scalar (D10): its
/// ScalarScanner types <c>10:00.0</c> as the number 36000.0, <c>yes</c> as true, <c>~</c> as nil,
/// <c>:x</c> as a symbol. Only a scalar Psych keeps as a String means to the probe what its text says.
/// The rules follow Psych 4's ScalarScanner.tokenize, branch by branch; the tests compare with ruby.
/// </summary>
internal static class PsychScalar
{
    public enum Kind
    {
        String,
        Null,
        Boolean,
        Number,
        Symbol,
        Time,
    }

    private const RegexOptions Options = RegexOptions.CultureInvariant;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(1);
    private static readonly Regex WordLike = new(@"^[^\d.:-]?[\p{L}_\s!@#$%\^&*(){}<>|/\\~;=]+", Options, Budget);
    private static readonly Regex TimeStamp = new(@"^-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|\s+)\d{1,2}:\d\d:\d\d(?:\.\d*)?(?:\s*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?$", Options, Budget);
    private static readonly Regex Date = new(@"^\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)$", Options, Budget);
    private static readonly Regex Sexagesimal = new(@"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}(\.[0-9_]*)?$", Options, Budget);
    private static readonly Regex Float = new(@"^(?:[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$", Options, Budget);
    private static readonly Regex Integer = new(@"^(?:[-+]?0b[0-1_,]+|[-+]?0[0-7_,]+|[-+]?(?:0|[1-9](?:[0-9]|,[0-9]|_[0-9])*)|[-+]?0x[0-9a-fA-F_,]+)$", Options, Budget);

    public static Kind Classify(string plain)
    {
        if (plain.Length == 0)
        {
            return Kind.Null;
        }

        // Ruby's ^ and $ match at every line; a multi-line plain scalar is folded to one line first.
        if (WordLike.IsMatch(plain) || plain.Contains('\n', StringComparison.Ordinal))
        {
            if (plain.Length > 5 || Regex.IsMatch(plain, "^[^ytonf~]", RegexOptions.IgnoreCase | Options, Budget))
            {
                return Kind.String;
            }

            return plain == "~" || plain.Equals("null", StringComparison.OrdinalIgnoreCase) ? Kind.Null
                : Regex.IsMatch(plain, "^(yes|true|on|no|false|off)$", RegexOptions.IgnoreCase | Options, Budget) ? Kind.Boolean
                : Kind.String;
        }

        if (TimeStamp.IsMatch(plain) || Date.IsMatch(plain))
        {
            return Kind.Time;
        }

        if (Regex.IsMatch(plain, @"^[-+]?\.inf$|^\.nan$", RegexOptions.IgnoreCase | Options, Budget))
        {
            return Kind.Number;
        }

        if (plain.Length > 1 && plain[0] == ':')
        {
            return Kind.Symbol;
        }

        if (Sexagesimal.IsMatch(plain))
        {
            return Kind.Number;
        }

        if (Float.IsMatch(plain))
        {
            return Regex.IsMatch(plain, @"^[-+]?\.$", Options, Budget) ? Kind.String : Kind.Number;
        }

        return Integer.IsMatch(plain) ? Kind.Number : Kind.String;
    }
}
