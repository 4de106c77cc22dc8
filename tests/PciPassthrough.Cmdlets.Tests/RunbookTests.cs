namespace PciPassthrough.Cmdlets.Tests;

/// <summary>The runbooks under docs/runbooks, run as a user would, through the hosted engine.</summary>
public class RunbookTests(ReadinessHostSession session) : IClassFixture<ReadinessHostSession>
{
    private static string Runbook(string name) => Path.Combine(RepoPaths.Root, "docs", "runbooks", name);

    [Fact]
    public void Test_HostReady_gives_each_devices_verdict_and_fixes()
    {
        var r = session.Run("& $args[0] -Root $root -Filter '10de:*'", Runbook("Test-HostReady.ps1"));
        Assert.Null(r.TerminatingError);
        var gpu = Assert.Single(r.Output);
        Assert.Equal("0000:01:00.0", gpu.Properties["PciAddress"].Value);
        Assert.Equal(false, gpu.Properties["ReadyNow"].Value);
        var todo = ((object[])gpu.Properties["ToDo"].Value).Select(t => t.ToString()).ToList();
        Assert.Contains(todo, t => t!.StartsWith("BoundToVfio: Set-VfioBinding -Address 0000:01:00.0", StringComparison.Ordinal));
    }

    [Fact]
    public void Test_HostReady_stops_on_a_host_without_a_working_iommu()
    {
        using var host = ReadinessHost.Create();
        host.WriteFile("proc/cmdline", "ro intel_iommu=off\n");
        Directory.Delete(Path.Combine(host.Root, "sys/class/iommu/dmar0"));
        var r = session.Ps.Run("& $args[0] -Root $args[1]", Runbook("Test-HostReady.ps1"), host.Root);
        Assert.NotNull(r.TerminatingError);
        Assert.Contains("not ready for PCI passthrough", r.TerminatingError!.Exception.Message);
        Assert.Contains("KernelCommandLine", r.TerminatingError.Exception.Message);
    }

    [Fact]
    public void Set_GpuPassthrough_WhatIf_binds_nothing_and_skips_the_boot_vga()
    {
        var before = File.ReadAllText(Path.Combine(session.Host.DeviceDir("0000:01:00.0"), "driver_override"));
        var r = session.Run("& $args[0] -Root $root -Filter '*:*' -WhatIf -WarningAction Continue", Runbook("Set-GpuPassthrough.ps1"));
        Assert.Null(r.TerminatingError);
        Assert.Contains("What if: Performing the operation \"Bind to vfio-pci\" on target \"0000:01:00.0", r.HostText);
        Assert.DoesNotContain("0000:03:00.0 (", r.HostText);
        Assert.Contains(r.Warnings, w => w.StartsWith("0000:03:00.0 is not passed through", StringComparison.Ordinal));
        Assert.Equal(before, File.ReadAllText(Path.Combine(session.Host.DeviceDir("0000:01:00.0"), "driver_override")));
        Assert.Equal("nvidia", session.Run("(Get-PciDevice -Root $root -Address 0000:01:00.0).Driver").Output.Single().BaseObject);
    }

    [Fact]
    public void New_GpuTemplate_prints_the_template_sections()
    {
        var r = session.Run("& $args[0] -Root $root -Filter '10de:*'", Runbook("New-GpuTemplate.ps1"));
        Assert.Null(r.TerminatingError);
        var text = (string)r.Output.Single().BaseObject;
        Assert.StartsWith("PCI = [", text);
        Assert.Contains("VENDOR = \"10de\"", text);
        Assert.Contains("DEVICE = \"1eb8\"", text);
        Assert.Contains("CLASS = \"0302\"", text);
    }

    [Fact]
    public void The_manifest_passes_Test_ModuleManifest_with_the_tags_and_no_wildcard_exports()
    {
        var r = session.Ps.Run("Test-ModuleManifest -Path $args[0]", RepoPaths.ModuleManifest);
        Assert.Null(r.TerminatingError);
        Assert.Empty(r.Errors);
        var info = r.Output.Single();
        var tags = ((System.Collections.IEnumerable)info.Properties["Tags"].Value).Cast<object>().Select(t => t.ToString()).ToList();
        Assert.Superset(new HashSet<string?> { "PSEdition_Core", "Linux", "PCI", "VFIO", "IOMMU", "OpenNebula" }, tags.ToHashSet());
        Assert.Equal(["Core"], ((System.Collections.IEnumerable)info.Properties["CompatiblePSEditions"].Value).Cast<object>().Select(e => e.ToString()));
        var manifest = File.ReadAllText(Path.Combine(RepoPaths.Root, "PciPassthrough.psd1"));
        Assert.DoesNotContain("'*'", manifest);
        Assert.Contains("FunctionsToExport    = @()", manifest);
        Assert.Contains("VariablesToExport    = @()", manifest);
        Assert.Contains("AliasesToExport      = @()", manifest);
        Assert.DoesNotContain("NestedModules", manifest);
    }
}
