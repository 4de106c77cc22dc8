using System.Diagnostics;
using System.Text.RegularExpressions;

namespace PciPassthrough.Filtering;

/// <summary>
/// Case-insensitive, unanchored device-name patterns (<c>-DeviceName</c>, pci.conf's <c>:device_name:</c>),
/// any of which may match. Matching costs time linear in the names (D18): .NET's non-backtracking engine takes
/// every pattern it supports (all but backreferences, lookarounds and atomic groups). A pattern it does not
/// support runs on the backtracking engine with one time budget for the whole call, not one per name, so a
/// slow pattern cannot multiply its cost by the number of devices.
/// </summary>
internal sealed class NamePatterns
{
    /// <summary>The backtracking engine's time for all matches of one call together.</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(2);

    private const RegexOptions Options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant;

    private readonly List<Regex> _patterns = [];
    private readonly string _parameter;
    private readonly TimeSpan _total;
    private long _backtrackingTicks;

    /// <param name="parameter">How the user gave the patterns, for the errors: -DeviceName or :device_name:.</param>
    public NamePatterns(IEnumerable<string>? patterns, string parameter)
        : this(patterns, parameter, Budget)
    {
    }

    /// <param name="total">The backtracking engine's time for the whole call (each match still has <see cref="Budget"/>).</param>
    internal NamePatterns(IEnumerable<string>? patterns, string parameter, TimeSpan total)
    {
        _parameter = parameter;
        _total = total;
        foreach (var p in patterns ?? [])
        {
            _patterns.Add(Compile(p, parameter));
        }
    }

    public int Count => _patterns.Count;

    /// <summary>How many patterns run on the backtracking engine, under the call's budget.</summary>
    internal int BacktrackingCount => _patterns.Count(r => (r.Options & RegexOptions.NonBacktracking) == 0);

    /// <summary>Whether any pattern matches; throws DeviceNamePatternTimeout once the call's budget is spent.</summary>
    public bool AnyMatches(string name)
    {
        foreach (var r in _patterns)
        {
            if (IsMatch(r, name))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsMatch(Regex r, string name)
    {
        var started = Stopwatch.GetTimestamp();
        bool matched;
        try
        {
            matched = r.IsMatch(name);
        }
        catch (RegexMatchTimeoutException e)
        {
            throw ErrorCatalog.DeviceNamePatternTimeout(r, name, Budget, _parameter, e);
        }

        if ((r.Options & RegexOptions.NonBacktracking) == 0)
        {
            _backtrackingTicks += Stopwatch.GetTimestamp() - started;
            if (Stopwatch.GetElapsedTime(0, _backtrackingTicks) > _total)
            {
                throw ErrorCatalog.DeviceNamePatternTimeout(r, name, _total, _parameter, null);
            }
        }

        return matched;
    }

    private static Regex Compile(string pattern, string parameter)
    {
        try
        {
            try
            {
                return new Regex(pattern, Options | RegexOptions.NonBacktracking, Budget);
            }
            catch (NotSupportedException)
            {
                return new Regex(pattern, Options, Budget);
            }
        }
        catch (ArgumentException e)
        {
            throw ErrorCatalog.InvalidDeviceNamePattern(pattern, e, parameter);
        }
    }
}
