namespace PciPassthrough.Cmdlets.Tests;

/// <summary>One engine with the module imported and one sample host, shared by a test class.</summary>
public sealed class SampleHostSession : IDisposable
{
    public SampleHostSession()
    {
        Host = SampleHost.Create();
        Ps = new PowerShellSession();
    }

    public FakeHost Host { get; }

    public PowerShellSession Ps { get; }

    /// <summary>Runs a script with <c>$root</c> set to the sample host's root.</summary>
    public ScriptResult Run(string script, params object?[] args) =>
        Ps.Run("param($root) " + script, [Host.Root, .. args]);

    public void Dispose()
    {
        Ps.Dispose();
        Host.Dispose();
    }
}
