using System.Runtime.ExceptionServices;

namespace PciPassthrough.Sysfs;

/// <summary>
/// A full scan on a large host, read by a few threads. Why: almost all of a scan's time is the kernel opening and
/// reading small files, one device after another, and those system calls run side by side on other cores. The
/// devices still come out in lspci's order, each chunk's diagnostics with it, so the result is the same as one
/// thread's, only sooner.
/// </summary>
public sealed partial class PciDeviceReader
{
    // Below this many devices the threads cost more than they save (a host with a few dozen functions).
    private const int ParallelThreshold = 256;
    private const int ChunkSize = 64;
    private const int MaxWorkers = 4;

    // A worker's reader: the scan's open folders, names and guest map, its own string pool and diagnostics.
    private PciDeviceReader(PciDeviceReader scan)
    {
        _root = scan._root;
        _names = scan._names;
        _options = scan._options;
        _vfioUsers = scan._vfioUsers;
        _assignments = scan._assignments;
        _hwdb = scan._hwdb;
        _devicesDir = scan._devicesDir;
        _mdevParents = scan._mdevParents;
        _scanning = true;
    }

    private static int ScanWorkers(int devices) =>
        devices < ParallelThreshold ? 1 : Math.Min(Math.Min(Environment.ProcessorCount, MaxWorkers), (devices + ChunkSize - 1) / ChunkSize);

    private IEnumerable<PciDevice?> ReadInParallel(IReadOnlyList<PciAddress> addresses, CancellationToken cancel)
    {
        var chunks = new Chunk[(addresses.Count + ChunkSize - 1) / ChunkSize];
        for (var c = 0; c < chunks.Length; c++)
        {
            chunks[c] = new Chunk(c * ChunkSize, Math.Min(ChunkSize, addresses.Count - (c * ChunkSize)));
        }

        var next = -1;
        var stop = false;
        var workers = new Task[ScanWorkers(addresses.Count)];
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Factory.StartNew(
                () =>
                {
                    var reader = new PciDeviceReader(this);
                    int c;
                    while (!Volatile.Read(ref stop) && !cancel.IsCancellationRequested && (c = Interlocked.Increment(ref next)) < chunks.Length)
                    {
                        chunks[c].ReadWith(reader, addresses);
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        try
        {
            foreach (var chunk in chunks)
            {
                chunk.Done.Wait(cancel);
                _diagnostics.AddRange(chunk.Diagnostics);
                if (chunk.Error is not null)
                {
                    ExceptionDispatchInfo.Throw(chunk.Error);
                }

                foreach (var device in chunk.Devices)
                {
                    cancel.ThrowIfCancellationRequested(); // as the one-thread scan: nothing after a cancel
                    yield return device;
                }
            }
        }
        finally
        {
            // A consumer that stops early (Select-Object -First) or a cancel: the workers finish their chunk and stop,
            // before ReadAll closes the folders they read from.
            Volatile.Write(ref stop, true);
            Task.WaitAll(workers, CancellationToken.None);
            foreach (var chunk in chunks)
            {
                chunk.Done.Dispose();
            }
        }
    }

    private sealed class Chunk(int start, int count)
    {
        public PciDevice?[] Devices { get; } = new PciDevice?[count];

        public ManualResetEventSlim Done { get; } = new();

        public IReadOnlyList<string> Diagnostics { get; private set; } = [];

        public Exception? Error { get; private set; }

        public void ReadWith(PciDeviceReader reader, IReadOnlyList<PciAddress> addresses)
        {
            try
            {
                for (var i = 0; i < Devices.Length; i++)
                {
                    Devices[i] = reader.Read(addresses[start + i]);
                }
            }
            catch (Exception e)
            {
                Error = e;
            }
            finally
            {
                Diagnostics = reader._diagnostics.ToArray();
                reader._diagnostics.Clear();
                Done.Set();
            }
        }
    }
}
