using System.Diagnostics;
using PciPassthrough.HostConfig;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// /etc/default/grub is a shell file (D13): what the module writes must mean, once bash sources it, the
/// arguments it says it wrote, with every other value unchanged. bash is the oracle.
/// </summary>
public class GrubShellTests
{
    private static readonly string[] Wanted = ["intel_iommu=on", "iommu=pt"];

    [Theory]
    // Single quotes: $CK is literal text and must stay literal.
    [InlineData("GRUB_CMDLINE_LINUX='quiet crashkernel=$CK'\n", "quiet crashkernel=$CK intel_iommu=on iommu=pt")]
    // Double quotes: $CK expands and must still expand.
    [InlineData("GRUB_CMDLINE_LINUX=\"quiet crashkernel=$CK\"\n", "quiet crashkernel=256M intel_iommu=on iommu=pt")]
    // A later assignment built on the earlier one decides the value: intel_iommu=off must not survive.
    [InlineData("GRUB_CMDLINE_LINUX=\"quiet\"\nGRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX intel_iommu=off\"\n", "quiet intel_iommu=on iommu=pt")]
    [InlineData("GRUB_CMDLINE_LINUX=\"quiet\"\nGRUB_CMDLINE_LINUX=\"${GRUB_CMDLINE_LINUX} splash\"\n", "quiet splash intel_iommu=on iommu=pt")]
    // A trailing comment is valid shell and stays.
    [InlineData("GRUB_CMDLINE_LINUX=\"quiet\" # serial console\n", "quiet intel_iommu=on iommu=pt")]
    [InlineData("GRUB_CMDLINE_LINUX=quiet\t# plain word\n", "quiet intel_iommu=on iommu=pt")]
    // Escapes inside double quotes keep their meaning.
    [InlineData("GRUB_CMDLINE_LINUX=\"a=\\\"b\\\" c=\\$CK d=\\\\x e=\\q\"\n", "a=\"b\" c=$CK d=\\x e=\\q intel_iommu=on iommu=pt")]
    // Another variable that merely starts with the same name is not the previous value.
    [InlineData("GRUB_CMDLINE_LINUX_DEFAULT=\"splash\"\nGRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX_DEFAULT quiet\"\n", "splash quiet intel_iommu=on iommu=pt")]
    [InlineData("GRUB_CMDLINE_LINUX=\"\"\n", "intel_iommu=on iommu=pt")]
    public void What_bash_reads_after_the_edit_is_the_old_value_plus_the_arguments(string grub, string expected)
    {
        var written = GrubCommandLine.Apply(grub, Wanted);

        Assert.Equal(expected, Source(written));
        Assert.Equal(written, GrubCommandLine.Apply(written, Wanted));
        // The module reads back what bash reads, $CK (which it cannot know) left as written.
        if (!written.Contains("$GRUB_CMDLINE_LINUX_DEFAULT", StringComparison.Ordinal))
        {
            Assert.Equal(Source(written, expand: false), string.Join(' ', GrubCommandLine.Arguments(written)));
        }
    }

    [Fact]
    public void The_trailing_comment_and_single_quotes_are_kept_byte_for_byte()
    {
        Assert.Equal("GRUB_CMDLINE_LINUX='quiet intel_iommu=on iommu=pt' # serial\n", GrubCommandLine.Apply("GRUB_CMDLINE_LINUX='quiet' # serial\n", Wanted));
    }

    [Fact]
    public void Two_assignments_report_the_value_the_later_one_leaves()
    {
        const string grub = "GRUB_CMDLINE_LINUX=\"quiet intel_iommu=on\"\nGRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX intel_iommu=off\"\n";
        Assert.Equal(["quiet", "intel_iommu=on", "intel_iommu=off"], GrubCommandLine.Arguments(grub));
    }

    [Fact]
    public void A_crlf_file_keeps_its_line_endings_on_the_edited_line()
    {
        Assert.Equal("GRUB_DEFAULT=0\r\nGRUB_CMDLINE_LINUX=\"quiet intel_iommu=on iommu=pt\"\r\n", GrubCommandLine.Apply("GRUB_DEFAULT=0\r\nGRUB_CMDLINE_LINUX=\"quiet\"\r\n", Wanted));
        Assert.Equal("GRUB_DEFAULT=0\r\nGRUB_CMDLINE_LINUX=\"intel_iommu=on iommu=pt\"\r\n", GrubCommandLine.Apply("GRUB_DEFAULT=0\r\n", Wanted));
    }

    [Theory]
    [InlineData("GRUB_CMDLINE_LINUX=\"quiet $(cat /x)\"\n")]
    [InlineData("GRUB_CMDLINE_LINUX=\"quiet `id`\"\n")]
    [InlineData("GRUB_CMDLINE_LINUX=quiet splash\n")]
    [InlineData("GRUB_CMDLINE_LINUX=\"quiet\"x\n")]
    [InlineData("GRUB_CMDLINE_LINUX=\"quiet\"# no blank before the hash\n")]
    public void A_value_that_is_not_one_string_or_runs_a_command_is_refused(string grub)
    {
        Assert.Equal(ErrorIds.ConfigFileInvalid, Assert.Throws<PciPassthroughException>(() => GrubCommandLine.Apply(grub, Wanted)).ErrorId);
    }

    // The value of GRUB_CMDLINE_LINUX once bash sources the file, with CK=256M; or, without expanding,
    // with each $VAR other than the file's own left as written (what the module can know).
    private static string Source(string grub, bool expand = true)
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, grub);
            var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(expand ? "CK=256M; . \"$1\"; printf %s \"$GRUB_CMDLINE_LINUX\"" : "CK='$CK'; . \"$1\"; printf %s \"$GRUB_CMDLINE_LINUX\"");
            psi.ArgumentList.Add("bash");
            psi.ArgumentList.Add(file);
            using var bash = Process.Start(psi)!;
            var output = bash.StandardOutput.ReadToEnd();
            bash.WaitForExit();
            Assert.Equal(0, bash.ExitCode);
            return output;
        }
        finally
        {
            File.Delete(file);
        }
    }
}
