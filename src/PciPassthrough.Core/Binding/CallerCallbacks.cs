using System.Runtime.ExceptionServices;

namespace PciPassthrough.Binding;

/// <summary>
/// The caller's log, warning and progress callbacks, made safe to call mid-transaction. In PowerShell
/// they are WriteVerbose, WriteWarning and WriteProgress, which throw once the pipeline is stopped
/// (Ctrl+C). Such an exception must not cut a transaction or its rollback short: the first one is kept,
/// the callbacks go quiet, the transaction stops at the next device and rolls back, and the exception
/// is rethrown once every device is back.
/// </summary>
internal sealed class CallerCallbacks
{
    private readonly Action<string> _log;
    private readonly Action<string> _warn;
    private readonly Action<int, int>? _progress;
    private ExceptionDispatchInfo? _failure;

    public CallerCallbacks(Action<string> log, Action<int, int>? progress = null, Action<string>? warn = null)
    {
        _log = log;
        _warn = warn ?? log;
        _progress = progress;
    }

    /// <summary>True once a callback threw: the caller is going away, so start nothing new.</summary>
    public bool Stopping => _failure is not null;

    public void Log(string message) => Call(() => _log(message));

    public void Warn(string message) => Call(() => _warn(message));

    public void Progress(int done, int total) => Call(() => _progress?.Invoke(done, total));

    /// <summary>Runs the work, then rethrows a callback's exception (in place of the work's own, which it caused).</summary>
    public T Run<T>(Func<T> work)
    {
        T result;
        try
        {
            result = work();
        }
        catch (Exception) when (_failure is not null)
        {
            _failure.Throw();
            throw;
        }

        _failure?.Throw();
        return result;
    }

    private void Call(Action callback)
    {
        if (_failure is not null)
        {
            return;
        }

        try
        {
            callback();
        }
        catch (Exception e)
        {
            _failure = ExceptionDispatchInfo.Capture(e);
        }
    }
}
