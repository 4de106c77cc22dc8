using System.Runtime.ExceptionServices;

namespace PciPassthrough.Binding;

/// <summary>
/// A sysfs write that may block in the kernel (a reset on broken hardware, <c>sriov_numvfs</c> while vfio holds a
/// VF): run on its own thread and waited for at most a timeout. A write that times out stays pending in the
/// kernel; its thread is abandoned, and the caller reports it.
/// </summary>
internal static class TimedWrite
{
    /// <summary>
    /// Writes through <paramref name="kernel"/>; false when the write did not return within <paramref name="timeout"/>.
    /// The write's own failure (an IOException carrying the errno) is rethrown as it was.
    /// </summary>
    public static bool TryWrite(IKernel kernel, string hostPath, string value, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var write = Task.Factory.StartNew(() => kernel.Write(hostPath, value), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            return write.Wait(timeout);
        }
        catch (AggregateException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }
}
