using System.Diagnostics;
using System.Text;
using PciPassthrough.HostFs;

namespace PciPassthrough.Binding;

/// <summary>
/// The only way the module changes a host's device state: sysfs writes and module loads. Behind an
/// interface so tests can run the binding protocol against a fixture tree and fail any single step.
/// </summary>
public interface IKernel
{
    /// <summary>Writes <paramref name="value"/> to a sysfs attribute (a host path such as /sys/bus/pci/drivers_probe).</summary>
    void Write(string hostPath, string value);

    /// <summary>Loads a kernel module; false when it cannot be loaded.</summary>
    bool LoadModule(string name);
}

/// <summary>
/// The real kernel. Attributes are opened as a shell's "echo value > attribute" opens them (write-only,
/// truncated, never created), written in one call and closed, so the kernel's answer (EBUSY, ENODEV,
/// EINVAL) surfaces as an IOException. Under a captured tree, a path whose directories lead out of it
/// is refused, and a final component that is a link is never followed (sysfs attributes are not links).
/// </summary>
public sealed class LiveKernel : IKernel
{
    private readonly HostRoot _root;

    public LiveKernel(HostRoot root) => _root = root;

    public void Write(string hostPath, string value)
    {
        var path = _root.ResolveContained(hostPath);
        using var handle = NativeFile.Open(path, NativeFile.WriteOnly | NativeFile.Truncate);
        NativeFile.Write(handle, Encoding.ASCII.GetBytes(value), path);
    }

    /// <summary>Runs modprobe, but only for the live host: a captured tree has no kernel to load into.</summary>
    public bool LoadModule(string name)
    {
        if (!_root.IsLiveHost)
        {
            return false;
        }

        try
        {
            var psi = new ProcessStartInfo("modprobe") { RedirectStandardError = true, RedirectStandardOutput = true };
            psi.ArgumentList.Add(name);
            using var p = Process.Start(psi);
            if (p is null)
            {
                return false;
            }

            p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            return p.WaitForExit(60_000) && p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // no modprobe on PATH
        }
    }
}
