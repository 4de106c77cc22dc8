using System.Runtime.InteropServices;

namespace PciPassthrough.Binding;

/// <summary>Whether the process may write sysfs: only root (euid 0) may bind drivers.</summary>
internal static class Privileges
{
    /// <summary>Tests replace this to see the refusal without running as another user.</summary>
    internal static Func<bool> IsRootProbe { get; set; } = () => geteuid() == 0;

    public static bool IsRoot => IsRootProbe();

    [DllImport("libc")]
    private static extern uint geteuid();
}
