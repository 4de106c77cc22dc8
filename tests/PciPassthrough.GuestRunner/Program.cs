using System.Diagnostics;
using PciPassthrough.TestSupport;

// Usage: GuestRunner <scenario file>...
// A scenario file holds PowerShell blocks, each headed by a line "#### <name>". All run in one
// engine (its start costs ~30 s under emulation). The output protocol, one line each:
//   @@@ BEGIN <name>  /  OUT <text>  /  ERR <FullyQualifiedErrorId> <message>  /
//   TERM <FullyQualifiedErrorId> <message>  /  @@@ END <name> <milliseconds>
if (args.Length == 0 || !args.All(File.Exists))
{
    Console.Error.WriteLine("usage: GuestRunner <scenario file>... (files run in order, in one engine)");
    return 2;
}

var scenarios = args.SelectMany(file => ScenarioFile.Parse(File.ReadAllText(file))).ToList();
var clock = Stopwatch.StartNew();
using var session = new PowerShellSession();
Console.WriteLine($"@@@ ENGINE {clock.ElapsedMilliseconds}");
foreach (var (name, script) in scenarios)
{
    clock.Restart();
    Console.WriteLine($"@@@ BEGIN {name}");
    var result = session.Run(script);
    foreach (var o in result.Output)
    {
        foreach (var line in (o?.ToString() ?? "").Split('\n'))
        {
            Console.WriteLine("OUT " + line.TrimEnd('\r'));
        }
    }

    foreach (var e in result.Errors)
    {
        Console.WriteLine($"ERR {e.FullyQualifiedErrorId} {OneLine(e.ToString())}");
    }

    if (result.TerminatingError is { } t)
    {
        Console.WriteLine($"TERM {t.FullyQualifiedErrorId} {OneLine(t.ToString())}");
    }

    Console.WriteLine($"@@@ END {name} {clock.ElapsedMilliseconds}");
}

return 0;

static string OneLine(string s) => s.Replace('\n', ' ').Replace('\r', ' ');
