using System.Management.Automation;
using System.Net;

namespace PciPassthrough.PowerShell.Common;

/// <summary>
/// Cmdlets that change the host they run on. Device objects that came back from
/// <c>Invoke-Command -HostName hv1</c> describe hv1: acting on them here would change this host's
/// device at the same address (and their Root, a path on hv1). They are refused per item.
/// </summary>
public abstract class HostChangingCmdletBase : PciCmdletBase
{
    private static readonly Lazy<HashSet<string>> LocalNames = new(ReadLocalNames);

    /// <summary>Bound from remoting's PSComputerName note on piped objects; not for users to set.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public string? PSComputerName { get; set; }

    /// <summary>An unanticipated I/O failure of a changing command is a failed change, not an unreadable host.</summary>
    protected override string UnexpectedIoErrorId => ErrorIds.HostChangeFailed;

    /// <summary>
    /// False, with an ObjectFromAnotherHost error for the item, when the piped object came from
    /// another host; true for objects of this host and for plain addresses.
    /// </summary>
    protected bool IsForThisHost(object target)
    {
        var from = PSComputerName;
        if (string.IsNullOrEmpty(from) || LocalNames.Value.Contains(from))
        {
            return true;
        }

        WriteCoreError(ErrorCatalog.ObjectFromAnotherHost(target, from, MyInvocation.MyCommand.Name));
        return false;
    }

    private static HashSet<string> ReadLocalNames()
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "localhost", "127.0.0.1", "::1", Environment.MachineName };
        try
        {
            var host = Dns.GetHostName();
            names.Add(host);
            names.Add(host.Split('.')[0]);
        }
        catch (System.Net.Sockets.SocketException)
        {
            // Without a resolvable host name the machine name above is what this host is called.
        }

        return names;
    }
}
