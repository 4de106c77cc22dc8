using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PciPassthrough.Filtering;
using PciPassthrough.HostConfig;
using PciPassthrough.OpenNebula;
using PciPassthrough.OpenNebula.Templates;
using PciPassthrough.Yaml;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// Hostile input for every parser and writer (issue 12): text assembled from the fragments that broke
/// them before (quotes, brackets, comments, markers, CR, NUL, colons). The only failure allowed is the
/// module's own error; what is accepted round-trips, and a writer run twice changes nothing the second
/// time. MaxTest keeps a CI run to a few seconds; raise it (or set FsCheck's replay) to fuzz longer.
/// </summary>
public class HostileInputFuzzTests
{
    private static Gen<string> Text(params string[] fragments) =>
        Gen.ListOf(Gen.Elements(fragments)).Select(parts => string.Concat(parts));

    private static readonly string[] PciConfFragments = [
        ":filter:", ":short_address:", ":device_name:", ":nvidia_vendors:", "':filter':", "\"filter\":", "other:",
        " ", "\n", "\r\n", "\r", "\t", "  - ", "- ", "'10de:*'", "\"8086:1520\"", "10:00.0", "yes", "~", "null", "[]", "[", "]", "{", "}",
        ",", "'a\n:b'", "\"x\\\"y\"", "# note", "---\n", "...\n", "&a ", "*a", "!!str ", "|\n  x\n", "'", "\"", ":", "\0"];

    private static readonly Gen<string> PciConf = Text(PciConfFragments);

    /// <summary>One generated pci.conf text, for suites that check a batch against an outside oracle (Ruby).</summary>
    internal static string SamplePciConf(Random random)
    {
        var parts = random.Next(0, 24);
        return string.Concat(Enumerable.Range(0, parts).Select(_ => PciConfFragments[random.Next(PciConfFragments.Length)]));
    }

    private static readonly Gen<string> Template = Text(
        "PCI", " = ", "[", "]", "VENDOR", "DEVICE", "CLASS", "SHORT_ADDRESS", "\"10de\"", "\"01:00.0\"", "\"", ",", "\n", "#", "NAME", "=", "\\", "\0", "\"\"", "x");

    private static readonly Gen<string> Filter = Text("10de", "8086", "0", "*", ":", ".", ",", "-", " ", "x", "ffff", "1eb8", "0300", "\0", "g", "\n");

    private static readonly Gen<string> Grub = Text(
        "GRUB_CMDLINE_LINUX=", "GRUB_DEFAULT=0", "export ", "\"", "'", "quiet", " ", "\t", "intel_iommu=off", "$CK", "${X}", "$GRUB_CMDLINE_LINUX",
        "\\", "`", "$(", "#c", "\n", "\r\n", "rd.driver.blacklist=nouveau", ",");

    private static readonly Gen<string> QemuConf = Text(
        "cgroup_device_acl", " = ", "[", "]", "\"/dev/null\"", "'/dev/kvm'", "\"/dev/vfio/4\"", "\"/dev/odd]name\"", ",", "#", " [see] ", "\n", "\r\n",
        "user = \"oneadmin\"", "\"", "'", "\\", " ", "=");

    [Property(MaxTest = 300)]
    public Property Pci_conf_reads_or_fails_with_the_modules_error_and_writes_what_it_reads_back() =>
        Prop.ForAll(PciConf.ToArbitrary(), text =>
        {
            var yaml = new ProbeFilterYaml();
            if (Only(() => yaml.Parse(text, "/pci.conf")) is null)
            {
                return;
            }

            var wanted = new PciProbeFilter(["10de:*"], ["01:00.0"], [], ["10de"]);
            var written = Only(() => yaml.Render(wanted, text, "/pci.conf"));
            if (written is not null)
            {
                var back = yaml.Parse(written, "/pci.conf");
                Assert.Equal(wanted.Filter, back.Filter);
                Assert.Equal(wanted.ShortAddress, back.ShortAddress);
                Assert.Equal(written, yaml.Render(wanted, written, "/pci.conf"));
            }
        });

    [Property(MaxTest = 300)]
    public Property Templates_read_or_fail_with_the_modules_error_and_round_trip() =>
        Prop.ForAll(Template.ToArbitrary(), text =>
        {
            if (Only(() => PciTemplateReader.Read(text)) is { } sections)
            {
                Assert.Equal(sections.Select(s => s.ToString()), PciTemplateReader.Read(PciTemplateSection.Render(sections)).Select(s => s.ToString()));
            }
        });

    [Property(MaxTest = 300)]
    public Property Lspci_filters_parse_or_fail_with_the_modules_error() =>
        Prop.ForAll(Filter.ToArbitrary(), text =>
        {
            if (Only(() => IdFilter.Parse(text)) is { } filter)
            {
                Assert.Equal(filter.ToString(), IdFilter.Parse(filter.ToString()).ToString());
            }
        });

    // D20: any bytes at all (a BOM, Latin-1, broken UTF-8) come back as they were when no line is edited.
    [Property(MaxTest = 300)]
    public Property A_files_bytes_survive_reading_and_writing_back_unchanged() =>
        Prop.ForAll(Gen.ArrayOf(Gen.Elements<byte>(0x00, 0x0a, 0x0d, 0x22, 0x41, 0x7f, 0x80, 0xbb, 0xbf, 0xc3, 0xa9, 0xe9, 0xef, 0xff)).ToArbitrary(), bytes =>
        {
            var (text, form) = FileText.Decode(bytes);
            Assert.Equal(bytes, FileText.Encode(text, form));
            Assert.True(FileText.CanHold(form, text));
        });

    [Property(MaxTest = 300)]
    public Property Grub_edits_apply_or_fail_with_the_modules_error_and_are_idempotent() =>
        Prop.ForAll(Grub.ToArbitrary(), text =>
        {
            string[] wanted = ["intel_iommu=on", "iommu=pt"];
            if (Only(() => GrubCommandLine.Apply(text, wanted)) is { } once)
            {
                Assert.Equal(once, GrubCommandLine.Apply(once, wanted));
                // "on" comes first; sub-options already there (even ones holding a $VAR) stay after it.
                Assert.Contains(GrubCommandLine.Arguments(once), a => a == "intel_iommu=on" || a.StartsWith("intel_iommu=on,", StringComparison.Ordinal));
            }
        });

    [Property(MaxTest = 300)]
    public Property Qemu_conf_edits_apply_or_fail_with_the_modules_error_and_are_idempotent() =>
        Prop.ForAll(QemuConf.ToArbitrary(), text =>
        {
            if (Only(() => QemuConfAcl.Apply(text, [4], [4])) is { } once)
            {
                Assert.Equal(once, QemuConfAcl.Apply(once, [4], [4]));
                Assert.Contains("\"/dev/vfio/4\"", once);
            }
        });

    // The result, or null when the call failed with the module's own error; any other exception type
    // fails the property with the input that caused it.
    private static T? Only<T>(Func<T> call)
        where T : class
    {
        try
        {
            return call();
        }
        catch (PciPassthroughException)
        {
            return null;
        }
    }
}
