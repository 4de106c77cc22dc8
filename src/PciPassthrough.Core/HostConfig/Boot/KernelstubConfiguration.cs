using System.Text.Json;
using System.Text.Json.Nodes;

namespace PciPassthrough.HostConfig.Boot;

/// <summary>
/// /etc/kernelstub/configuration (Pop!_OS): JSON whose <c>user.kernel_options</c> list is what
/// kernelstub puts on the command line. Only that list changes; every other key stays.
/// </summary>
internal static class KernelstubConfiguration
{
    public const string Path = "/etc/kernelstub/configuration";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static IReadOnlyList<string> Arguments(string? text) =>
        text is null ? [] : Options(Parse(text)).ToList();

    public static string Apply(string? text, IReadOnlyList<string> wanted, IReadOnlyCollection<string>? removedItems)
    {
        var document = text is null ? new JsonObject() : Parse(text);
        var merged = KernelArgumentMerge.Apply(Options(document), wanted, removedItems);
        if (document["user"] is not JsonObject user)
        {
            user = new JsonObject();
            document["user"] = user;
        }

        user["kernel_options"] = new JsonArray(merged.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray());
        return document.ToJsonString(Indented) + "\n";
    }

    private static JsonObject Parse(string text)
    {
        try
        {
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 16 }) as JsonObject
                ?? throw Invalid("it is not a JSON object");
        }
        catch (JsonException e)
        {
            throw Invalid($"it is not valid JSON ({e.Message})");
        }
    }

    private static IEnumerable<string> Options(JsonObject document)
    {
        if (document["user"] is not JsonObject user || user["kernel_options"] is not { } options)
        {
            return [];
        }

        if (options is not JsonArray list || list.Any(o => o is not JsonValue v || v.GetValueKind() != JsonValueKind.String))
        {
            throw Invalid("user.kernel_options is not a list of strings");
        }

        return list.Select(o => o!.GetValue<string>());
    }

    private static PciPassthroughException Invalid(string why) =>
        ErrorCatalog.ConfigFileInvalid(Path, why, "Fix it by hand, or run 'kernelstub --add-options' yourself");
}
