using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace PciPassthrough.TestSupport;

/// <summary>What one script run produced on each stream.</summary>
public sealed record ScriptResult(
    Collection<PSObject> Output,
    IReadOnlyList<ErrorRecord> Errors,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<string> Verbose,
    ErrorRecord? TerminatingError,
    string HostText)
{
    /// <summary>The value of a property of every output object, in order.</summary>
    public IReadOnlyList<object?> Values(string property) => Output.Select(o => o.Properties[property]?.Value).ToList();
}

/// <summary>
/// A real PowerShell engine in the test process, with the BUILT module imported by its manifest, so the
/// manifest, format data, parameter binding and pipelines are what the tests exercise.
/// </summary>
public sealed class PowerShellSession : IDisposable
{
    private readonly CapturingHost _host = new();
    private readonly Runspace _runspace;

    public PowerShellSession(bool importModule = true)
    {
        _runspace = RunspaceFactory.CreateRunspace(_host, InitialSessionState.CreateDefault2());
        _runspace.Open();
        if (importModule)
        {
            var imported = Run("Import-Module -Name $args[0] -ErrorAction Stop -PassThru", RepoPaths.ModuleManifest);
            if (imported.TerminatingError is not null || imported.Errors.Count > 0)
            {
                throw new InvalidOperationException($"Import-Module {RepoPaths.ModuleManifest} failed: {imported.TerminatingError ?? imported.Errors[0]}");
            }
        }
    }

    /// <summary>Answers for the next confirmation prompts, by choice label ("Yes", "No").</summary>
    public Queue<string> ChoiceAnswers => _host.ChoiceAnswers;

    /// <summary>The confirmation prompts asked so far, as "caption|message".</summary>
    public List<string> Prompts => _host.Prompts;

    /// <summary>Runs a script; <c>$args</c> holds the arguments. Terminating errors are captured, not thrown.</summary>
    public ScriptResult Run(string script, params object?[] args)
    {
        _host.Clear();
        using var ps = System.Management.Automation.PowerShell.Create();
        ps.Runspace = _runspace;
        // A cmdlet's terminating error ends only its statement inside a script; catching and
        // rethrowing it makes Invoke throw, so tests see it as the caller of a runbook would.
        ps.AddScript("try { & {\n" + script + "\n} @args } catch { throw }");
        foreach (var a in args)
        {
            ps.AddArgument(a);
        }

        Collection<PSObject> output = [];
        ErrorRecord? terminating = null;
        try
        {
            output = ps.Invoke();
        }
        catch (RuntimeException e)
        {
            terminating = e.ErrorRecord;
        }

        return new ScriptResult(
            output,
            ps.Streams.Error.ToList(),
            ps.Streams.Warning.Select(w => w.Message).ToList(),
            ps.Streams.Verbose.Select(v => v.Message).ToList(),
            terminating,
            _host.Text);
    }

    public void Dispose()
    {
        _runspace.Dispose();
    }
}
