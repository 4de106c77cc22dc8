using System.Reflection;
using System.Text.RegularExpressions;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// Every error is made by the catalogue (src/PciPassthrough.Core/Errors), so a failure has one
/// wording and one remedy wherever it is raised, and every ID the module documents is raised.
/// </summary>
public partial class ErrorCatalogTests
{
    [GeneratedRegex(@"new\s+PciPassthroughException\s*\(|new\s*\(\s*ErrorIds\.")]
    private static partial Regex ComposedOnTheSpot();

    [Fact]
    public void No_code_outside_the_catalogue_composes_an_error()
    {
        var offenders = Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"PciPassthrough.Core{Path.DirectorySeparatorChar}Errors{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => ComposedOnTheSpot().IsMatch(File.ReadAllText(f)))
            .Select(f => Path.GetRelativePath(RepoPaths.Root, f))
            .ToList();
        Assert.Empty(offenders);
    }

    [Fact]
    public void Every_error_id_is_raised_by_a_factory_a_safety_rule_or_the_cmdlet_error_policy()
    {
        var sources = string.Concat(Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "src", "PciPassthrough.Core"), "*.cs", SearchOption.AllDirectories)
            .Where(f => f.Contains($"{Path.DirectorySeparatorChar}Catalog{Path.DirectorySeparatorChar}", StringComparison.Ordinal) || f.EndsWith("DeviceSafetyRules.cs", StringComparison.Ordinal)
                || f.Contains($"{Path.DirectorySeparatorChar}Safety{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Concat(Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "src", "PciPassthrough", "Common"), "*.cs")) // the base classes' error policy
            .Select(File.ReadAllText));
        var unused = typeof(ErrorIds).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && !sources.Contains("ErrorIds." + f.Name, StringComparison.Ordinal))
            .Select(f => f.Name)
            .ToList();
        Assert.Empty(unused);
    }

    [Fact]
    public void Every_factory_gives_a_remedy_and_the_id_it_is_filed_under()
    {
        Assert.Equal("InvalidPciAddress", ErrorCatalog.InvalidAddress("0000:0g:00.0").ErrorId);
        var factories = typeof(ErrorCatalog).GetMethods(BindingFlags.Public | BindingFlags.Static);
        Assert.All(factories, m => Assert.Equal(typeof(PciPassthroughException), m.ReturnType));
        var ids = typeof(ErrorIds).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!).ToHashSet();
        foreach (var e in new[]
        {
            ErrorCatalog.DeviceNotFound("0000:09:00.0", "/"),
            ErrorCatalog.LockTimeout("/run/lock/pcipassthrough.lock", TimeSpan.FromSeconds(30)),
            ErrorCatalog.ConfigFileInvalid("/etc/default/grub", "unbalanced quotes", "Fix the line by hand"),
            ErrorCatalog.KernelCommandLineUnknown("/etc/kernel/cmdline", "no root="),
            ErrorCatalog.TemplateSyntax("template", "line 1, column 2", "expected ="),
        })
        {
            Assert.Contains(e.ErrorId, ids);
            Assert.False(string.IsNullOrWhiteSpace(e.RecommendedAction));
            Assert.DoesNotContain("{", e.Message, StringComparison.Ordinal);
        }
    }
}
