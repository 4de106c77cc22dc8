namespace PciPassthrough;

/// <summary>Whether a process (a guest) holds a device open.</summary>
public enum DeviceUsage
{
    /// <summary>No process holds it: every process's open files were read.</summary>
    NotInUse,

    /// <summary>At least one process holds it (see <c>InUse</c>).</summary>
    InUse,

    /// <summary>None was found, but some processes' open files could not be read (run as root to know).</summary>
    Unknown,
}
