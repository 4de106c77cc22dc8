namespace PciPassthrough.TestSupport;

/// <summary>
/// The real-kernel scenarios: PowerShell blocks headed by <c>#### name</c> lines, and the results the
/// guest prints for them (see tests/PciPassthrough.GuestRunner).
/// </summary>
public static class ScenarioFile
{
    public static List<(string Name, string Script)> Parse(string text)
    {
        var scenarios = new List<(string, string)>();
        string? name = null;
        var body = new System.Text.StringBuilder();
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("#### ", StringComparison.Ordinal))
            {
                if (name is not null)
                {
                    scenarios.Add((name, body.ToString()));
                }

                name = line[5..].Trim();
                body.Clear();
            }
            else if (name is not null)
            {
                body.Append(line).Append('\n');
            }
        }

        if (name is not null)
        {
            scenarios.Add((name, body.ToString()));
        }

        return scenarios;
    }

    /// <summary>Parses the guest's output into one result per scenario.</summary>
    public static Dictionary<string, ScenarioResult> ParseResults(string output)
    {
        var results = new Dictionary<string, ScenarioResult>(StringComparer.Ordinal);
        ScenarioResult? current = null;
        foreach (var raw in output.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("@@@ BEGIN ", StringComparison.Ordinal))
            {
                current = new ScenarioResult(line[10..]);
                results[current.Name] = current;
            }
            else if (line.StartsWith("@@@ END ", StringComparison.Ordinal))
            {
                current?.MarkFinished();
                current = null;
            }
            else if (current is not null)
            {
                if (line.StartsWith("OUT ", StringComparison.Ordinal)) current.Output.Add(line[4..]);
                else if (line.StartsWith("ERR ", StringComparison.Ordinal)) current.Errors.Add(line[4..]);
                else if (line.StartsWith("TERM ", StringComparison.Ordinal)) current.Terminating = line[5..];
            }
        }

        return results;
    }
}

/// <summary>What one scenario printed in the guest.</summary>
public sealed class ScenarioResult(string name)
{
    public string Name { get; } = name;

    public List<string> Output { get; } = [];

    /// <summary>Non-terminating errors: "FullyQualifiedErrorId message".</summary>
    public List<string> Errors { get; } = [];

    public string? Terminating { get; set; }

    public bool Finished { get; private set; }

    public void MarkFinished() => Finished = true;

    public override string ToString() =>
        $"{Name}: {(Finished ? "finished" : "did not finish")}\n  OUT {string.Join("\n  OUT ", Output)}\n  ERR {string.Join("\n  ERR ", Errors)}\n  TERM {Terminating}";
}
