namespace PciPassthrough.Cmdlets.Tests;

/// <summary><c>Get-PciDevice -Filter F</c> selects exactly what <c>lspci -D -d F</c> selects.</summary>
public class LspciFilterAgreementTests(SampleHostSession session) : IClassFixture<SampleHostSession>
{
    public static TheoryData<string> Filters => new()
    {
        "*:*", ":", "8086:*", "8086:", ":1520", "10de:1eb8", "1af4:*", "abab:7777", "0:0", "ffff:ffff",
        "*:*:0200", "*:*:02xx", "*:*:03xx", "*:*:0x00", "*:*:x2xx", "*:*:xxxx", "*:*:06", "*:*:ff00", "*:*:01xx:02",
        "8086:1521:0200:00", "*:*:0106", "*:*::01", "::0c05", "8086:*:06xx", "00008086:1521",
    };

    public static TheoryData<string> RejectedFilters => new()
    {
        "10de", "1:2:3:4:5", "g:0", "10000:0", "0:10000", "0:0:3xxxx", "0:0:0:100", "x:0",
    };

    [Theory]
    [MemberData(nameof(Filters))]
    public void On_a_generated_tree(string filter)
    {
        Assert.True(Lspci.IsInstalled, Lspci.MissingMessage);
        var (exit, output, error) = Lspci.Run(Lspci.ForTree(session.Host, "-D", "-d", filter));
        Assert.True(exit == 0, error);
        var r = session.Run("Get-PciDevice -Root $root -Filter $args[0]", filter);
        Assert.Null(r.TerminatingError);
        Assert.Equal(Lspci.Addresses(output), r.Values("PciAddress").Cast<string>());
    }

    [Theory]
    [MemberData(nameof(Filters))]
    public void On_this_machines_real_sysfs_read_only(string filter)
    {
        Assert.True(Lspci.IsInstalled, Lspci.MissingMessage);
        var (exit, output, error) = Lspci.Run("-D", "-d", filter);
        Assert.True(exit == 0, error);
        var r = session.Ps.Run("Get-PciDevice -Filter $args[0]", filter);
        Assert.Null(r.TerminatingError);
        Assert.Equal(Lspci.Addresses(output), r.Values("PciAddress").Cast<string>());
    }

    [Theory]
    [MemberData(nameof(RejectedFilters))]
    public void Filters_lspci_rejects_are_rejected_with_lspcis_reason(string filter)
    {
        Assert.True(Lspci.IsInstalled, Lspci.MissingMessage);
        var (exit, _, error) = Lspci.Run(Lspci.ForTree(session.Host, "-D", "-d", filter));
        Assert.NotEqual(0, exit);
        var reason = error.Trim().Split(": ").Last();
        var r = session.Run("Get-PciDevice -Root $root -Filter $args[0]", filter);
        Assert.Equal("InvalidPciFilter,PciPassthrough.PowerShell.Commands.GetPciDeviceCommand", r.TerminatingError?.FullyQualifiedErrorId);
        Assert.Contains(reason, r.TerminatingError!.Exception.Message);
    }
}
