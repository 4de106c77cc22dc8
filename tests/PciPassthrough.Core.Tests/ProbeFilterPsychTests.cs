using System.Diagnostics;
using System.Text.Json;
using PciPassthrough.OpenNebula;
using PciPassthrough.Yaml;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// pci.conf as OpenNebula's Ruby reads it (D10): real ruby (Psych) is the oracle. On every input the
/// module accepts, each key reads as Ruby reads it after pci.rb's defaults; an unquoted value Ruby types
/// as a number, boolean, symbol or date is refused, and a quoted key is not the probe's key.
/// </summary>
public class ProbeFilterPsychTests
{
    private static readonly string[] Keys = ["filter", "short_address", "device_name", "nvidia_vendors"];

    private static readonly string[] Inputs =
    [
        ":filter: '10de:*'\n",
        "':filter': '*:*'\n",
        "\":filter\": '*:*'\n:device_name: ['T4']\n",
        ":short_address: [10:00.0, 1a:00.0]\n",
        ":short_address: ['10:00.0', 1a:00.0, 0a:00.0, 00:1f.3]\n",
        ":short_address: [00:02.0]\n",
        ":filter: yes\n",
        ":filter: 'yes'\n",
        ":filter: Off\n",
        ":filter: n\n",
        ":filter: true_story\n",
        ":filter: 0x10\n",
        ":filter: 1.5\n",
        ":filter: 10de\n",
        ":filter: 10de:*\n",
        ":filter: 1234\n",
        ":filter: 08\n",
        ":filter: 0777\n",
        ":filter: 1_000\n",
        ":filter: 1,000\n",
        ":filter: 12:30\n",
        ":filter: -.inf\n",
        ":filter: .\n",
        ":filter: 2001-01-01\n",
        ":filter: 2001-01-01 10:00:00\n",
        ":filter: :sym\n",
        ":filter: !!str 1234\n",
        ":filter:\n  - 10de:*\n  - '8086:1520'\n",
        ":device_name: [on, A100]\n",
        ":device_name:\n  - ^Device$\n  - \"GA100\"\n  - .*\n",
        ":nvidia_vendors: [10de, 1234]\n",
        ":nvidia_vendors: [10de, '1234']\n",
        ":nvidia_vendors:\n  - 10de\n  - abcd\n",
    ];

    [Fact]
    public void Every_input_the_module_accepts_reads_as_ruby_reads_it()
    {
        var ruby = Ruby(Inputs);
        var accepted = 0;
        for (var i = 0; i < Inputs.Length; i++)
        {
            PciProbeFilter module;
            try
            {
                module = new ProbeFilterYaml().Parse(Inputs[i], "/pci.conf");
            }
            catch (PciPassthroughException e)
            {
                Assert.Equal(ErrorIds.ProbeFilterInvalid, e.ErrorId);
                // Refused only where Ruby would not hand the probe text: a typed value somewhere.
                Assert.True(ruby[i].Any(v => v is null), $"refused although Ruby reads only strings: {Inputs[i]}: {e.Message}");
                continue;
            }

            accepted++;
            string[][] mine = [module.Filter, module.ShortAddress, module.DeviceName, module.NvidiaVendors];
            for (var k = 0; k < Keys.Length; k++)
            {
                Assert.True(ruby[i][k] is not null, $"{Inputs[i]}: Ruby reads :{Keys[k]} as something other than text, the module as {string.Join('|', mine[k])}");
                Assert.Equal(ruby[i][k], mine[k]);
            }
        }

        Assert.True(accepted >= Inputs.Length / 3, $"only {accepted} inputs accepted");
    }

    [Theory]
    [InlineData(":short_address: [10:00.0]\n", "'10:00.0' as a number")]
    [InlineData(":filter: yes\n", "'yes' as a boolean")]
    [InlineData(":filter: 2001-01-01\n", "as a date")]
    public void A_typed_value_is_refused_with_what_ruby_reads_and_what_to_do(string text, string says)
    {
        var e = Assert.Throws<PciPassthroughException>(() => new ProbeFilterYaml().Parse(text, "/pci.conf"));
        Assert.Contains(says, e.Message);
        Assert.Contains("put it in quotes", e.Message);
    }

    [Fact]
    public void The_writer_quotes_what_it_writes_so_ruby_reads_text()
    {
        var written = new ProbeFilterYaml().Render(new PciProbeFilter(["10de"], ["10:00.0"], ["yes"], ["1234"]), "':filter': '*:*'\n", "/pci.conf");
        var ruby = Ruby([written])[0];
        Assert.Equal(["10de"], ruby[0]!);
        Assert.Equal(["10:00.0"], ruby[1]!);
        Assert.Equal(["yes"], ruby[2]!);
        Assert.Equal(["1234"], ruby[3]!);
    }

    // Each input as pci.rb reads it: its defaults merged with the file, each key as a list of strings
    // (a String value as one entry), or null when Ruby holds anything else there.
    private static List<string[]?[]> Ruby(IReadOnlyList<string> inputs)
    {
        var dir = Directory.CreateTempSubdirectory("pcipt-psych-");
        try
        {
            var files = inputs.Select((t, i) =>
            {
                var f = Path.Combine(dir.FullName, $"{i}.conf");
                File.WriteAllText(f, t);
                return f;
            }).ToList();
            const string script = """
                require 'yaml'; require 'json'
                ARGV.each do |f|
                  c = { :filter => '0:0', :short_address => [], :device_name => [], :nvidia_vendors => ['10de'] }.merge(YAML.unsafe_load(File.read(f)))
                  puts JSON.generate([:filter, :short_address, :device_name, :nvidia_vendors].map { |k|
                    v = c[k]
                    v = [v] if v.is_a?(String)
                    v.is_a?(Array) && v.all? { |x| x.is_a?(String) } ? v : nil
                  })
                end
                """;
            var psi = new ProcessStartInfo("ruby") { RedirectStandardOutput = true };
            psi.ArgumentList.Add("-e");
            psi.ArgumentList.Add(script);
            files.ForEach(psi.ArgumentList.Add);
            using var p = Process.Start(psi)!;
            var lines = p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            p.WaitForExit();
            Assert.Equal(0, p.ExitCode);
            return lines.Select(l => JsonSerializer.Deserialize<string[]?[]>(l)!).ToList();
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
