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
    private const string FilterKey = ":filter";
    private const string ShortAddressKey = ":short_address";
    private const string DeviceNameKey = ":device_name";
    private const string NvidiaVendorsKey = ":nvidia_vendors";

    // YamlDotNet rejects a key that starts with ':' on the line after a flow list ("[...]"), which
    // Ruby's libyaml (OpenNebula's reader) accepts. A same-length stand-in for that colon keeps every
    // position, so errors and edits still point at the original text.
    private const char ColonStandIn = '\uE000';
    private static readonly Regex LeadingColon = new("(?m)^:(?=[A-Za-z_])", RegexOptions.CultureInvariant);

    public PciProbeFilter Parse(string text, string path)
    {
        var values = Read(text, path);
        return new PciProbeFilter(
            Strings(values, FilterKey, path),
            Strings(values, ShortAddressKey, path),
            Strings(values, DeviceNameKey, path),
            Strings(values, NvidiaVendorsKey, path))
        { Path = path };
    }

    public string Render(PciProbeFilter filter, string? original, string path)
    {
        var wanted = new (string Key, string Yaml)[]
        {
            (FilterKey, filter.Filter.Length == 1 ? Quote(filter.Filter[0]) : List(filter.Filter)),
            (ShortAddressKey, List(filter.ShortAddress)),
            (DeviceNameKey, List(filter.DeviceName)),
            (NvidiaVendorsKey, List(filter.NvidiaVendors)),
        };
        var text = original ?? "";
        var found = Read(text, path);
        var sb = new StringBuilder(text);
        var missing = wanted.Where(w => !found.ContainsKey(w.Key)).Select(w => $"{w.Key}:{(w.Yaml.StartsWith('\n') ? "" : " ")}{w.Yaml}").ToList();
        foreach (var (key, yaml) in wanted.Where(w => found.ContainsKey(w.Key)).OrderByDescending(w => found[w.Key].Start))
        {
            var value = found[key];

            var start = value.Start;
            while (yaml.StartsWith('\n') && start > 0 && sb[start - 1] is ' ' or '\n')
            {
                start--; // a block list follows its key's colon directly: "key:\n  - a"
            }

            sb.Remove(start, value.End - start).Insert(start, yaml);
        }

        if (missing.Count > 0)
        {
            if (sb.ToString().Trim().Length == 0)
            {
                sb.Clear().Append("---\n");
            }
            else if (sb[^1] != '\n')
            {
                sb.Append('\n');
            }

            foreach (var line in missing)
            {
                sb.Append(line).Append('\n');
            }
        }

        return sb.ToString();
    }

    /// <summary>The top-level keys with their value's parsed form and exact span in the text.</summary>
    private static Dictionary<string, Value> Read(string text, string path)
    {
        var values = new Dictionary<string, Value>(StringComparer.Ordinal);
        var parser = new Parser(new StringReader(LeadingColon.Replace(text, ColonStandIn.ToString())));
        try
        {
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _) || !parser.TryConsume<DocumentStart>(out _))
            {
                return values;
            }

            if (parser.TryConsume<Scalar>(out var empty) && empty.Value.Length == 0)
            {
                return values; // "---" alone
            }

            if (!parser.TryConsume<MappingStart>(out _))
            {
                var current = parser.Current!;
                throw Invalid(path, $"line {current.Start.Line}: the file must be a mapping of keys such as :filter: to values", null);
            }

            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var keyEvent = parser.Consume<Scalar>();
                var key = keyEvent.Value.Length > 0 && keyEvent.Value[0] == ColonStandIn ? ":" + keyEvent.Value[1..] : keyEvent.Value;
                values[key] = ReadValue(parser, key, path);
            }
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

        return values;
    }

    private static Value ReadValue(Parser parser, string key, string path)
    {
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            return new Value((int)scalar.Start.Index, (int)scalar.End.Index, [scalar.Value], IsScalar: true, Line: (int)scalar.Start.Line, Column: (int)scalar.Start.Column);
        }

        if (parser.TryConsume<SequenceStart>(out var sequence))
        {
            var items = new List<string>();
            Scalar? last = null;
            while (!parser.Accept<SequenceEnd>(out _))
            {
                if (!parser.TryConsume<Scalar>(out var item))
                {
                    var bad = parser.Current!;
                    throw Invalid(path, $"line {bad.Start.Line}, column {bad.Start.Column}: {key}: entries must be strings", null);
                }

                items.Add(item.Value);
                last = item;
            }

            var end = parser.Consume<SequenceEnd>();
            // A flow list's end mark sits on its ']' (include it); a block list ends where the next key
            // begins, so its span stops at its last item.
            var stop = sequence.Style == SequenceStyle.Flow ? (int)end.Start.Index + 1 : (int)(last?.End.Index ?? end.Start.Index);
            return new Value((int)sequence.Start.Index, stop, items, IsScalar: false, Line: (int)sequence.Start.Line, Column: (int)sequence.Start.Column);
        }

        var other = parser.Current!;
        parser.SkipThisAndNestedEvents();
        return new Value((int)other.Start.Index, (int)other.End.Index, null, IsScalar: false, Line: (int)other.Start.Line, Column: (int)other.Start.Column);
    }

    private static List<string>? Strings(Dictionary<string, Value> values, string key, string path)
    {
        if (!values.TryGetValue(key, out var value))
        {
            return null;
        }

        if (value.Items is null)
        {
            throw Invalid(path, $"line {value.Line}, column {value.Column}: {key}: must be a string or a list of strings", null);
        }

        return value.IsScalar && value.Items[0].Length == 0 ? [] : value.Items.ToList();
    }

    private static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    // Lists in block style, as OpenNebula's own pci.conf writes :nvidia_vendors:.
    private static string List(string[] values) =>
        values.Length == 0 ? "[]" : string.Concat(values.Select(v => "\n  - " + Quote(v)));

    private static PciPassthroughException Invalid(string path, string detail, Exception? inner) => new(
        ErrorIds.ProbeFilterInvalid,
        FailureKind.InvalidArgument,
        $"{path} is not valid pci.conf YAML: {detail}.",
        "Fix the file (keys are written with a leading colon, e.g. :filter: '10de:*'); nothing was changed.",
        path,
        inner);

    private sealed record Value(int Start, int End, IReadOnlyList<string>? Items, bool IsScalar, int Line, int Column);
}
