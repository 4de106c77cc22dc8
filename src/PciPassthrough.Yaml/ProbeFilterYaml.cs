using System.Text;
using System.Text.RegularExpressions;
using PciPassthrough.OpenNebula;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace PciPassthrough.Yaml;

/// <summary>
/// OpenNebula's pci.conf. Its keys are Ruby symbols written with a leading colon (<c>:filter:</c>).
/// Reading follows the probe (a string or a list for :filter:, defaults for missing keys); writing
/// replaces only the text of the four known values, located by the parser, so every other key,
/// comment and line stays byte for byte.
/// </summary>
public sealed class ProbeFilterYaml : IProbeFilterFormat
{
    private const string FilterKey = PciProbeFilter.FilterKey;
    private const string ShortAddressKey = PciProbeFilter.ShortAddressKey;
    private const string DeviceNameKey = PciProbeFilter.DeviceNameKey;
    private const string NvidiaVendorsKey = PciProbeFilter.NvidiaVendorsKey;

    // lspci's slot column (BB:SS.F, or DDDD:BB:SS.F outside domain 0000) and its vendor ids: the only
    // strings a one-string :short_address: or :nvidia_vendors: can be compared with.
    private static readonly Regex SlotShape = new(@"\A(?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]\z", RegexOptions.CultureInvariant);
    private static readonly Regex VendorShape = new(@"\A[0-9a-f]{4}\z", RegexOptions.CultureInvariant);

    // YamlDotNet rejects a key that starts with ':' on the line after a flow list ("[...]"), which
    // Ruby's libyaml (OpenNebula's reader) accepts. A same-length stand-in for that colon keeps every
    // position, so errors and edits still point at the original text. The regex also hits continuation
    // lines of quoted scalars, so the stand-in is a character the text does not hold, and values get
    // their colon back.
    private static readonly Regex LeadingColon = new("(?m)^:(?=[A-Za-z_])", RegexOptions.CultureInvariant);

    public PciProbeFilter Parse(string text, string path)
    {
        var document = Read(text, path);
        if (!document.HasSettings)
        {
            // YAML.load_file gives nil, and pci.rb's Hash#merge(nil) raises TypeError: "Invalid configuration".
            throw Invalid(path, "it holds no settings (no key: value line), which OpenNebula's Ruby reads as nil, so its probe stops with \"Invalid configuration\"; write the keys, e.g. :filter: '0:0' (Set-PciProbeFilter does)", null);
        }

        var unusable = new List<string>();
        string[]? Get(string key)
        {
            if (!document.Values.TryGetValue(key, out var value))
            {
                return null;
            }

            if (Strings(key, value, path) is { } items)
            {
                return items;
            }

            unusable.Add(key);
            return [];
        }

        return new PciProbeFilter(Get(FilterKey), Get(ShortAddressKey), Get(DeviceNameKey), Get(NvidiaVendorsKey))
        {
            Path = path,
            UnusableKeys = unusable,
        };
    }

    public bool HoldsSettings(string text, string path) => Read(text, path).HasSettings;

    public string Render(PciProbeFilter filter, string? original, string path)
    {
        var text = original ?? "";
        var document = Read(text, path);
        // An edited or added line ends like the file's lines do, so a CRLF file stays CRLF.
        var newLine = text.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        var indent = new string(' ', document.KeyColumn);
        var wanted = new (string Key, string[] Values)[]
        {
            (FilterKey, filter.Filter), (ShortAddressKey, filter.ShortAddress), (DeviceNameKey, filter.DeviceName), (NvidiaVendorsKey, filter.NvidiaVendors),
        };

        var edits = new List<(int At, int Length, string Text)>();
        var missing = new StringBuilder();
        foreach (var (key, values) in wanted)
        {
            var yaml = Yaml(key, values, newLine, indent);
            if (!document.Values.TryGetValue(key, out var value))
            {
                missing.Append(indent).Append(key).Append(':').Append(yaml).Append(newLine);
            }
            else if (!Same(key, value, values))
            {
                // A value that already reads as wanted keeps its bytes, so keys not given keep their
                // comments, block scalars and empty values (which Ruby reads as nil, not as []).
                edits.Add(Replace(text, value, yaml));
            }
        }

        if (missing.Length > 0)
        {
            // First, so that at a shared position (an empty last value with no final newline) the
            // value's block list lands before the added keys.
            edits.Insert(0, Append(text, document.End, missing.ToString(), newLine));
        }

        var sb = new StringBuilder(text);
        foreach (var (at, length, insert) in edits.OrderByDescending(e => e.At))
        {
            sb.Remove(at, length).Insert(at, insert);
        }

        var written = sb.ToString();
        Verify(written, wanted, path);
        return written;
    }

    /// <summary>A value as written after its key's colon: " 'x'" or " []" inline, or a block list.</summary>
    private static string Yaml(string key, string[] values, string newLine, string indent) =>
        key == FilterKey && values.Length == 1 ? " " + Quote(values[0])
        : values.Length == 0 ? " []"
        : string.Concat(values.Select(v => newLine + indent + "  - " + Quote(v)));

    private static (int, int, string) Replace(string text, Value value, string yaml)
    {
        var block = yaml[0] != ' ';
        if (value.Start == value.End)
        {
            // An empty value is an empty span right after the colon: an inline value goes there, a
            // block list at the end of that line, after any comment on it.
            if (!block)
            {
                return (value.Start, 0, yaml);
            }

            var lineEnd = text.IndexOf('\n', value.Start);
            lineEnd = lineEnd < 0 ? text.Length : lineEnd > 0 && text[lineEnd - 1] == '\r' ? lineEnd - 1 : lineEnd;
            return (lineEnd, 0, yaml);
        }

        // A block scalar's span runs on to the next key; its line breaks stay.
        var end = value.End;
        while (end > value.Start && char.IsWhiteSpace(text[end - 1]))
        {
            end--;
        }

        // Back to the colon over blanks; a block list also over line breaks ("key:\n  - a"), stopping
        // at a comment between key and list, which is kept.
        var start = value.Start;
        while (start > 0 && (text[start - 1] is ' ' or '\t' || (block && text[start - 1] is '\r' or '\n')))
        {
            start--;
        }

        return (start, end - start, yaml);
    }

    private static (int, int, string) Append(string text, int? end, string lines, string newLine)
    {
        if (end is { } at)
        {
            return (at, 0, lines); // before "..." or the next "---": keys after it are in no document the probe reads
        }

        if (text.Trim().Length == 0)
        {
            return (0, text.Length, "---" + newLine + lines);
        }

        return (text.Length, 0, text[^1] == '\n' ? lines : newLine + lines);
    }

    // An unusable value (nil where pci.rb needs a list) never reads as wanted, so asking for a value rewrites it.
    private static bool Same(string key, Value value, string[] wanted) =>
        value.Items is not null && value.NotAString is null && Effective(key, value) is { } items && items.SequenceEqual(wanted, StringComparer.Ordinal);

    /// <summary>
    /// What pci.rb does with a key's value, as the list the module matches with; null where pci.rb stops with
    /// NoMethodError (nil or a String where it calls a list's method). Ruby's nil :filter: runs lspci without
    /// -d (every device: *:*); a String :filter: is split at commas as entries are; a String :short_address:
    /// or :nvidia_vendors: is tested with String#include?, so it matches every slot or vendor id inside it (and a
    /// string with none inside matches nothing: kept as the one entry, which equals no slot or vendor id).
    /// </summary>
    private static string[]? Effective(string key, Value value)
    {
        if (value.IsNull)
        {
            return key == FilterKey ? ["*:*"] : null;
        }

        if (!value.IsScalar)
        {
            // pci.rb splits each :filter: entry at commas before any device is read: a nil entry stops it there.
            return key == FilterKey && value.HasNilItem ? null : [.. value.Items!];
        }

        var text = value.Items![0];
        return text.Length == 0 ? []
            : key switch
            {
                ShortAddressKey => Inside(text, SlotShape, 7, 12) is { Length: > 0 } slots ? slots : [text],
                NvidiaVendorsKey => Inside(text, VendorShape, 4) is { Length: > 0 } vendors ? vendors : [text],
                DeviceNameKey => null,
                _ => [text],
            };
    }

    // Every substring of the given lengths that has the shape, once, in order.
    private static string[] Inside(string text, Regex shape, params int[] lengths)
    {
        var found = new List<string>();
        for (var i = 0; i < text.Length; i++)
        {
            foreach (var length in lengths)
            {
                if (i + length <= text.Length && text.Substring(i, length) is var s && shape.IsMatch(s) && !found.Contains(s))
                {
                    found.Add(s);
                }
            }
        }

        return [.. found];
    }

    /// <summary>Refuses a rewrite that would not read back as what was asked: nothing is written then.</summary>
    private static void Verify(string written, (string Key, string[] Values)[] wanted, string path)
    {
        string? wrong;
        try
        {
            var back = Read(written, path).Values;
            wrong = wanted.Where(w => !back.TryGetValue(w.Key, out var v) || !Same(w.Key, v, w.Values)).Select(w => w.Key).FirstOrDefault();
        }
        catch (PciPassthroughException e)
        {
            wrong = e.Message;
        }

        if (wrong is not null)
        {
            throw Invalid(path, $"its layout cannot take the new values and still read back as them ({wrong})", null);
        }
    }

    /// <summary>The first document's top-level keys, and where keys it lacks can go.</summary>
    private static Document Read(string text, string path)
    {
        if (text.Length > MaxLength)
        {
            throw ErrorCatalog.InputTooComplex($"{path} is {text.Length} characters long, which", $"the limit of {MaxLength} for pci.conf", path);
        }

        RefuseControlCharacters(text, path);
        var standIn = StandIn(text);
        var parsed = LeadingColon.Replace(text, standIn.ToString());
        var positions = new QuotedContinuation();
        while (true)
        {
            var parser = new Parser(new StringReader(parsed));
            try
            {
                return Read(parser, text, standIn, positions, path);
            }
            catch (YamlException e) when (QuotedContinuation.IsIndentationError(e) && positions.TryRepair(ref parsed, (int)e.Start.Index))
            {
                // parsed again with that value's continuation lines indented, which leaves its text as it was
            }
            catch (YamlException e)
            {
                throw Invalid(path, $"line {e.Start.Line}, column {e.Start.Column}: {e.Message}", e);
            }
            catch (InvalidOperationException e)
            {
                // Consume<T> met another event than the structure pci.conf has (a list where a key belongs).
                var at = parser.Current?.Start;
                throw Invalid(path, $"line {at?.Line}, column {at?.Column}: unexpected structure ({e.Message})", e);
            }
        }
    }

    private static Document Read(Parser parser, string text, char standIn, QuotedContinuation positions, string path)
    {
        var values = new Dictionary<string, Value>(StringComparer.Ordinal);
        var column = 0;
        parser.Consume<StreamStart>();
        if (!parser.TryConsume<DocumentStart>(out _))
        {
            return new Document(values, null, 0, HasSettings: false);
        }

        var hasSettings = false;
        if (parser.Accept<Scalar>(out var only) && only.Value.Length == 0)
        {
            parser.MoveNext(); // "---" alone
        }
        else if (parser.TryConsume<MappingStart>(out var mapping))
        {
            if (!mapping.Tag.IsEmpty && mapping.Tag.Value != "tag:yaml.org,2002:map")
            {
                // Psych builds what the tag names (a String from !!str), not the Hash pci.rb merges.
                throw Invalid(path, $"line {mapping.Start.Line}: the settings carry the tag {mapping.Tag.Value}, so OpenNebula's Ruby does not read them as settings", null);
            }

            hasSettings = true;
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var keyEvent = parser.Consume<Scalar>();
                column = values.Count == 0 ? (int)keyEvent.Start.Column - 1 : column;
                // Psych makes only a plain ":filter" the symbol pci.rb looks up; a quoted ':filter' is a
                // String key the probe never reads (D10), so it must not count as :filter here either.
                // A tagged key (!!str :filter) is a String too.
                var key = keyEvent.Style == ScalarStyle.Plain && keyEvent.Tag.IsEmpty ? Symbol(keyEvent.Value.Replace(standIn, ':')) : "\"" + keyEvent.Value;
                values[key] = ReadValue(parser, key, standIn, positions, path);
            }
        }
        else
        {
            var current = parser.Current!;
            throw Invalid(path, $"line {current.Start.Line}: the file must be a mapping of keys such as :filter: to values", null);
        }

        var documentEnd = parser.Consume<DocumentEnd>();
        var at = positions.Original(documentEnd.Start.Index);
        var marked = !documentEnd.IsImplicit || text.AsSpan(at).StartsWith("---", StringComparison.Ordinal);
        return new Document(values, marked ? at : null, column, hasSettings);
    }

    // Psych's symbol rule for a plain :"..." or :'...': the text up to the last such quote on the first line
    // (/^:(["'])(.*)\1/), less one leading colon; so :"filter"::x is the symbol :filter.
    private static string Symbol(string plain)
    {
        if (plain.Length < 3 || plain[0] != ':' || plain[1] is not ('"' or '\''))
        {
            return plain;
        }

        var line = plain.IndexOf('\n', StringComparison.Ordinal) is var n and >= 0 ? plain[..n] : plain;
        var close = line.LastIndexOf(plain[1]);
        if (close < 2)
        {
            return plain;
        }

        var name = line[2..close];
        return ":" + (name.StartsWith(':') ? name[1..] : name);
    }

    // libyaml's reader (Ruby's, so pci.rb's) refuses these anywhere in the stream, even in a comment or a quoted
    // value, where YamlDotNet takes some of them: "control characters are not allowed".
    private static void RefuseControlCharacters(string text, string path)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is '\t' or '\n' or '\r' or '\u0085' or (>= ' ' and <= '~') or (>= '\u00A0' and <= '\uFFFD'))
            {
                continue;
            }

            var line = 1 + text.AsSpan(0, i).Count('\n');
            throw Invalid(path, $"line {line}: the control character U+{(int)c:X4} is not allowed in YAML, and OpenNebula's Ruby refuses the whole file", null);
        }
    }

    private static char StandIn(string text)
    {
        for (var c = '\uE000'; c < '\uF8FF'; c++)
        {
            if (!text.Contains(c, StringComparison.Ordinal))
            {
                return c;
            }
        }

        return '\uF8FF';
    }

    private static Value ReadValue(Parser parser, string key, char standIn, QuotedContinuation positions, string path)
    {
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            return new Value(positions.Original(scalar.Start.Index), positions.Original(scalar.End.Index), [Text(scalar, standIn)], IsScalar: true, Line: (int)scalar.Start.Line, Column: (int)scalar.Start.Column)
            {
                NotAString = NotAString(scalar, standIn),
                IsNull = IsNil(scalar),
            };
        }

        if (parser.TryConsume<SequenceStart>(out var sequence))
        {
            var items = new List<string>();
            var hasNil = false;
            string? notAString = null;
            Scalar? last = null;
            while (!parser.Accept<SequenceEnd>(out _))
            {
                if (!parser.TryConsume<Scalar>(out var item))
                {
                    var bad = parser.Current!;
                    throw Invalid(path, $"line {bad.Start.Line}, column {bad.Start.Column}: {key}: entries must be strings", null);
                }

                items.Add(Text(item, standIn));
                hasNil |= IsNil(item);
                notAString ??= NotAString(item, standIn);
                last = item;
            }

            var end = parser.Consume<SequenceEnd>();
            // A flow list's end mark sits on its ']' (include it); a block list ends where the next key
            // begins, so its span stops at its last item.
            var stop = sequence.Style == SequenceStyle.Flow ? positions.Original(end.Start.Index) + 1 : positions.Original(last?.End.Index ?? end.Start.Index);
            return new Value(positions.Original(sequence.Start.Index), stop, items, IsScalar: false, Line: (int)sequence.Start.Line, Column: (int)sequence.Start.Column) { NotAString = notAString, HasNilItem = hasNil };
        }

        var other = parser.Current!;
        SkipNested(parser, path);
        return new Value(positions.Original(other.Start.Index), positions.Original(other.End.Index), null, IsScalar: false, Line: (int)other.Start.Line, Column: (int)other.Start.Column);
    }

    // An unquoted ~ or null is Ruby's nil, read here as an empty value is; every other value keeps its text.
    private static string Text(Scalar scalar, char standIn) =>
        IsNil(scalar) ? "" : scalar.Value.Replace(standIn, ':');

    // An empty value, ~ or null, unquoted: Ruby's nil (a quoted '' is an empty String).
    private static bool IsNil(Scalar scalar) =>
        scalar.Style == ScalarStyle.Plain && scalar.Tag.IsEmpty && PsychScalar.Classify(scalar.Value) == PsychScalar.Kind.Null;

    // What Psych makes of a scalar when that is not a String (nor nil), for the error; null when a String.
    private static string? NotAString(Scalar scalar, char standIn)
    {
        var text = scalar.Value.Replace(standIn, ':');
        if (!scalar.Tag.IsEmpty)
        {
            return scalar.Tag.Value is "tag:yaml.org,2002:str" or "!" ? null : $"'{text}' with the tag {scalar.Tag.Value}";
        }

        if (scalar.Style != ScalarStyle.Plain)
        {
            return null;
        }

        return PsychScalar.Classify(text) switch
        {
            PsychScalar.Kind.Boolean => $"'{text}' as a boolean",
            PsychScalar.Kind.Number => $"'{text}' as a number",
            PsychScalar.Kind.Symbol => $"'{text}' as a symbol",
            PsychScalar.Kind.Time => $"'{text}' as a date or time",
            _ => null,
        };
    }

    /// <summary>How deep a value pci.conf does not use may nest before the file is refused (D18).</summary>
    public const int MaxDepth = 64;

    /// <summary>The longest pci.conf read: OpenNebula's is under 1 KiB.</summary>
    public const int MaxLength = 1 << 20;

    // As SkipThisAndNestedEvents, but refusing deep nesting before the parser works through it: YamlDotNet
    // takes quadratic time on nested flow mappings ({a: {a: ...}}), minutes at 160 KB.
    private static void SkipNested(Parser parser, string path)
    {
        var depth = 0;
        do
        {
            var e = parser.Current!;
            depth += e.NestingIncrease;
            if (depth > MaxDepth)
            {
                throw ErrorCatalog.InputTooComplex($"{path}: a value at line {e.Start.Line} nested more than {MaxDepth} deep", $"the limit of {MaxDepth} levels", path);
            }

            parser.MoveNext();
        }
        while (depth > 0);
    }

    /// <summary>The list the probe uses for a key's value; null when pci.rb cannot use it (see Effective).</summary>
    private static string[]? Strings(string key, Value value, string path)
    {
        if (value.Items is null)
        {
            throw Invalid(path, $"line {value.Line}, column {value.Column}: {key}: must be a string or a list of strings", null);
        }

        if (value.NotAString is { } typed)
        {
            throw Invalid(path, $"line {value.Line}, column {value.Column}: {key}: OpenNebula's Ruby reads {typed}, not as the text, so the probe would not use it as written; put it in quotes", null);
        }

        return Effective(key, value);
    }

    private static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static PciPassthroughException Invalid(string path, string detail, Exception? inner) => ErrorCatalog.ProbeFilterInvalid(path, detail, inner);

    /// <param name="End">Where keys the document lacks go when a "..." or "---" ends it; null: the end of the text.</param>
    /// <param name="HasSettings">Whether the first document is a mapping; Ruby reads anything else as no settings.</param>
    private sealed record Document(Dictionary<string, Value> Values, int? End, int KeyColumn, bool HasSettings);

    private sealed record Value(int Start, int End, IReadOnlyList<string>? Items, bool IsScalar, int Line, int Column)
    {
        /// <summary>The first entry Ruby reads as something other than a String or nil; null when none.</summary>
        public string? NotAString { get; init; }

        /// <summary>A value Ruby reads as nil (empty, ~ or null, unquoted).</summary>
        public bool IsNull { get; init; }

        /// <summary>A list with an entry Ruby reads as nil.</summary>
        public bool HasNilItem { get; init; }
    }
}
