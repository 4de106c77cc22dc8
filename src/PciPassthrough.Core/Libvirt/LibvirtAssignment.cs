namespace PciPassthrough;

/// <summary>
/// A libvirt domain that is defined but not running and names a device in its <c>&lt;hostdev&gt;</c> (or an
/// <c>&lt;interface type='hostdev'&gt;</c>): starting it will take the device. It never blocks a change.
/// </summary>
public sealed class LibvirtAssignment
{
    public LibvirtAssignment(string domainName, bool managed, string definitionPath)
    {
        DomainName = domainName;
        VmId = QemuCommandLine.OpenNebulaVmId(domainName);
        Managed = managed;
        DefinitionPath = definitionPath;
    }

    public string DomainName { get; }

    /// <summary>The OpenNebula VM ID when the domain is named <c>one-&lt;ID&gt;</c>.</summary>
    public int? VmId { get; }

    /// <summary>The hostdev's <c>managed</c>: libvirt binds the device to vfio-pci itself when the domain starts.</summary>
    public bool Managed { get; }

    /// <summary>The definition file (<c>/etc/libvirt/qemu/&lt;name&gt;.xml</c>, a host path).</summary>
    public string DefinitionPath { get; }

    public override string ToString() => $"domain {DomainName} (defined, not running; {DefinitionPath})";
}
