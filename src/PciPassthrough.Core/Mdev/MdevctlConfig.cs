using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PciPassthrough.Mdev;

/// <summary>
/// mdevctl's persistent definition, <c>/etc/mdevctl.d/&lt;parent&gt;/&lt;uuid&gt;</c>: JSON
/// <c>{"mdev_type": T, "start": "auto"|"manual", "attrs": [{name: value}, ...]}</c>. Read as mdevctl reads it
/// (one key per attribute object, string values), written byte for byte as mdevctl 1.2 writes it
/// (serde_json's pretty form: two-space indent, no final newline), so mdevctl, libvirt and this module
/// read each other's files.
/// </summary>
public sealed record MdevctlConfig(string Type, MediatedDeviceStartMode StartMode, IReadOnlyList<MediatedDeviceAttributeValue> Attributes)
{
    /// <summary>The folder of definitions: one subfolder per parent, one file per UUID.</summary>
    public const string Directory = "/etc/mdevctl.d";

    public static string PathOf(string parent, string uuid) => $"{Directory}/{parent}/{uuid}";

    /// <summary>Parses a definition; MediatedDeviceConfigInvalid names what mdevctl would also reject.</summary>
    public static MdevctlConfig Parse(string text, string hostPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            var top = doc.RootElement;
            if (top.ValueKind != JsonValueKind.Object)
            {
                throw ErrorCatalog.MediatedDeviceConfigInvalid(hostPath, "it is not a JSON object");
            }

            var type = top.TryGetProperty("mdev_type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() is { Length: > 0 } name
                ? name
                : throw ErrorCatalog.MediatedDeviceConfigInvalid(hostPath, "it has no \"mdev_type\" string");
            var start = top.TryGetProperty("start", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            var mode = start switch
            {
                "auto" => MediatedDeviceStartMode.Auto,
                "manual" => MediatedDeviceStartMode.Manual,
                _ => throw ErrorCatalog.MediatedDeviceConfigInvalid(hostPath, "its \"start\" is neither \"auto\" nor \"manual\""),
            };
            var attributes = new List<MediatedDeviceAttributeValue>();
            if (top.TryGetProperty("attrs", out var attrs))
            {
                if (attrs.ValueKind != JsonValueKind.Array)
                {
                    throw ErrorCatalog.MediatedDeviceConfigInvalid(hostPath, "its \"attrs\" is not an array");
                }

                foreach (var entry in attrs.EnumerateArray())
                {
                    var pairs = entry.ValueKind == JsonValueKind.Object ? entry.EnumerateObject().ToList() : [];
                    if (pairs.Count != 1 || pairs[0].Value.ValueKind != JsonValueKind.String)
                    {
                        throw ErrorCatalog.MediatedDeviceConfigInvalid(hostPath, "an \"attrs\" entry is not an object of one name and one string value");
                    }

                    attributes.Add(new MediatedDeviceAttributeValue(pairs[0].Name, pairs[0].Value.GetString()!));
                }
            }

            return new MdevctlConfig(type, mode, attributes);
        }
        catch (JsonException e)
        {
            throw ErrorCatalog.MediatedDeviceConfigInvalid(hostPath, "it is not valid JSON: " + e.Message);
        }
    }

    /// <summary>The file's content, exactly as <c>mdevctl define</c> writes it.</summary>
    public string Format()
    {
        var b = new StringBuilder();
        b.Append("{\n  \"mdev_type\": ").Append(Quote(Type)).Append(",\n  \"start\": ")
            .Append(StartMode == MediatedDeviceStartMode.Auto ? "\"auto\"" : "\"manual\"").Append(",\n  \"attrs\": ");
        if (Attributes.Count == 0)
        {
            b.Append("[]");
        }
        else
        {
            b.Append('[');
            for (var i = 0; i < Attributes.Count; i++)
            {
                b.Append(i == 0 ? "\n" : ",\n").Append("    {\n      ").Append(Quote(Attributes[i].Name)).Append(": ").Append(Quote(Attributes[i].Value)).Append("\n    }");
            }

            b.Append("\n  ]");
        }

        return b.Append("\n}").ToString();
    }

    // serde_json's escaping: quote, backslash and control characters; everything else as UTF-8.
    private static string Quote(string s)
    {
        var b = new StringBuilder(s.Length + 2).Append('"');
        foreach (var c in s)
        {
            _ = c switch
            {
                '"' => b.Append("\\\""),
                '\\' => b.Append("\\\\"),
                '\n' => b.Append("\\n"),
                '\r' => b.Append("\\r"),
                '\t' => b.Append("\\t"),
                '\b' => b.Append("\\b"),
                '\f' => b.Append("\\f"),
                < ' ' => b.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)),
                _ => b.Append(c),
            };
        }

        return b.Append('"').ToString();
    }
}
