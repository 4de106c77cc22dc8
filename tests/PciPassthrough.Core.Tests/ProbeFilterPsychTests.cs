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
        // Ruby's nil (empty, ~, null): no lspci filter for :filter:, NoMethodError for the others.
        ":filter:\n",
        ":filter: ~\n:device_name: []\n",
        ":filter: null\n",
        ":filter: ''\n",
        ":filter: '*:*'\n:short_address:\n",
        ":filter: '*:*'\n:short_address: ~\n",
        ":short_address: ''\n",
        ":device_name:\n",
        ":device_name: Null\n:filter: '*:*'\n",
        ":device_name: ''\n",
        ":nvidia_vendors:\n",
        ":nvidia_vendors: ''\n",
        // One string where pci.rb calls a list's method: include? is a substring test, each does not exist.
        ":short_address: '10:00.0,1a:00.0'\n",
        ":short_address: 00:02.0\n",
        ":nvidia_vendors: '10de1002'\n",
        ":nvidia_vendors: '10DE'\n",
        ":device_name: 'T4'\n",
        ":filter:\n  - \n  - '10de:*'\n",
        "{}\n",
        // D11: a double-quoted value whose continuation line starts in column 0, as libyaml reads it.
        ":filter: \"10de\n:*\"\n",
        ":device_name: [\"T\n4\", \"A\n:100\"]\n:filter: \"*:*\"\n",
        ":filter: \"a\\\"\n:b\"\n:short_address: ['00:02.0']\n",
        ":filter: \"a\\\n:b\"\n",
        ":filter: \"a\n\n:b\"\n",
        ":filter: \"a\n---\n\"\n",
    ];

    // The devices every input is tried on: pci.rb compares these with :short_address: and :nvidia_vendors:.
    private static readonly string[] Slots = ["00:02.0", "10:00.0", "1a:00.0", "0a:00.0", "00:1f.3", "0001:02:00.0"];
    private static readonly string[] Vendors = ["10de", "1002", "8086", "de10", "0de1", "1234"];

    [Fact]
    public void Every_input_the_module_accepts_reads_as_ruby_reads_it()
    {
        var accepted = AgreeWithRuby(Inputs);
        Assert.True(accepted >= Inputs.Length / 3, $"only {accepted} inputs accepted");
    }

    /// <summary>
    /// The fuzz suite's pci.conf texts, with Ruby as the oracle: PCIPT_FUZZ_COUNT inputs (300 by default, a few
    /// seconds; raise it to fuzz longer) from PCIPT_FUZZ_SEED (a number to replay the seed a failure prints, or
    /// "random").
    /// </summary>
    [Fact]
    public void Generated_inputs_the_module_accepts_read_as_ruby_reads_them()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("PCIPT_FUZZ_COUNT"), out var c) ? c : 300;
        // A fixed seed by default, so that CI cannot fail on an input no one can replay; PCIPT_FUZZ_SEED=random explores.
        var seedText = Environment.GetEnvironmentVariable("PCIPT_FUZZ_SEED");
        var seed = int.TryParse(seedText, out var s) ? s : seedText == "random" ? Environment.TickCount : 20261129;
        var random = new Random(seed);
        var inputs = Enumerable.Range(0, count).Select(_ => HostileInputFuzzTests.SamplePciConf(random)).ToList();
        try
        {
            AgreeWithRuby(inputs, bothAcceptOnly: true);
        }
        catch (Exception e) when (e is Xunit.Sdk.XunitException)
        {
            throw new Xunit.Sdk.XunitException($"PCIPT_FUZZ_SEED={seed}: {e.Message}");
        }
    }

    // Asserts that each input the module accepts reads as Ruby reads it, and that it refuses only where Ruby does
    // not hand pci.rb text; returns how many it accepted. With bothAcceptOnly, only inputs both accept are
    // compared (the rule): generated text also holds what neither should meet in a pci.conf (a list as a
    // key, garbage after the first document, tabs libyaml refuses), where the two may refuse differently.
    private static int AgreeWithRuby(IReadOnlyList<string> inputs, bool bothAcceptOnly = false)
    {
        var ruby = Ruby(inputs);
        var accepted = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            PciProbeFilter module;
            try
            {
                module = new ProbeFilterYaml().Parse(inputs[i], "/pci.conf");
            }
            catch (PciPassthroughException e) when (bothAcceptOnly)
            {
                Assert.True(e.ErrorId is ErrorIds.ProbeFilterInvalid or ErrorIds.InputTooComplex, e.ErrorId);
                continue;
            }
            catch (PciPassthroughException e)
            {
                Assert.True(e.ErrorId is ErrorIds.ProbeFilterInvalid or ErrorIds.InputTooComplex, e.ErrorId);
                // Refused only where Ruby would not hand the probe text: a typed value somewhere.
                Assert.True(ruby[i].Any(v => v is null or ["unloadable"]), $"refused although Ruby reads only strings: {Escape(inputs[i])}: {e.Message}");
                continue;
            }

            accepted++;
            if (bothAcceptOnly && ruby[i].All(v => v is ["unloadable"]))
            {
                continue;
            }

            string[][] mine = [Entries(module.Filter), Passing(module.ShortAddress, Slots), module.DeviceName, Vendors.Where(module.NvidiaVendors.Contains).ToArray()];
            for (var k = 0; k < Keys.Length; k++)
            {
                var used = module.UnusableKeys.Contains(":" + Keys[k]) ? ["stops"] : mine[k];
                Assert.True(ruby[i][k] is not null, $"{Escape(inputs[i])}: Ruby reads :{Keys[k]} as something other than text, the module as {string.Join('|', used)}");
                Assert.True(ruby[i][k]!.SequenceEqual(used), $"{Escape(inputs[i])}: :{Keys[k]} is {string.Join('|', ruby[i][k]!)} to Ruby, {string.Join('|', used)} to the module");
            }
        }

        return accepted;
    }

    private static string Escape(string text) => JsonSerializer.Serialize(text);

    // Which of the candidates pass the rule: "all" when the list is empty (pci.rb skips the rule then).
    private static string[] Passing(string[] list, string[] candidates) =>
        list.Length == 0 ? ["all"] : candidates.Where(list.Contains).ToArray();

    // The lspci -d filters run, as pci.rb splits entries at commas.
    private static string[] Entries(string[] filter) => filter.SelectMany(f => f.Split(',')).ToArray();

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    [InlineData("---\n")]
    [InlineData("---\n...\n")]
    public void A_file_without_settings_is_refused_as_pci_rb_refuses_it(string text)
    {
        Assert.Equal("TypeError", RubyMergeError(text));
        var e = Assert.Throws<PciPassthroughException>(() => new ProbeFilterYaml().Parse(text, "/pci.conf"));
        Assert.Equal(ErrorIds.ProbeFilterInvalid, e.ErrorId);
        Assert.Contains("Invalid configuration", e.Message);
        Assert.False(new ProbeFilterYaml().HoldsSettings(text, "/pci.conf"));
    }

    [Fact]
    public void An_empty_filter_lists_every_device_and_a_rewrite_keeps_it_as_written()
    {
        var yaml = new ProbeFilterYaml();
        const string text = ":filter:   # every device\n:device_name: []\n";
        var read = yaml.Parse(text, "/pci.conf");
        Assert.Equal(["*:*"], read.Filter);
        Assert.Empty(read.UnusableKeys);
        var written = yaml.Render(read.With(null, null, ["T4"], null), text, "/pci.conf");
        Assert.Equal(":filter:   # every device\n:device_name:\n  - 'T4'\n:short_address: []\n:nvidia_vendors:\n  - '10de'\n", written);
    }

    [Theory]
    [InlineData(":short_address:\n", ":short_address")]
    [InlineData(":device_name: 'T4'\n", ":device_name")]
    [InlineData(":nvidia_vendors: ~\n", ":nvidia_vendors")]
    public void A_value_pci_rb_cannot_use_is_reported_and_kept_out_of_a_rewrite(string text, string key)
    {
        var yaml = new ProbeFilterYaml();
        var read = yaml.Parse(text, "/pci.conf");
        Assert.Equal([key], read.UnusableKeys);
        Assert.Equal([key], read.With(["10de:*"], null, null, null).UnusableKeys);
        Assert.Empty(read.With(null, [], [], ["10de"]).UnusableKeys);
        var repaired = yaml.Render(read.With(null, [], [], ["10de"]), text, "/pci.conf");
        Assert.Empty(yaml.Parse(repaired, "/pci.conf").UnusableKeys);
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

    // What Ruby raises when pci.rb merges its defaults with the file; null when it does not.
    private static string? RubyMergeError(string text)
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, text);
            var psi = new ProcessStartInfo("ruby") { RedirectStandardOutput = true };
            psi.ArgumentList.Add("-ryaml");
            psi.ArgumentList.Add("-e");
            psi.ArgumentList.Add("begin; {}.merge(YAML.load_file(ARGV[0])); rescue => e; print e.class; end");
            psi.ArgumentList.Add(file);
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return output.Length == 0 ? null : output;
        }
        finally
        {
            File.Delete(file);
        }
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
            // pci.rb's own calls on each value: [v].flatten for :filter: (nil: lspci with no -d), empty?/include?
            // for :short_address: and :nvidia_vendors:, empty?/each for :device_name:; "stops" where they raise.
            var script = $$"""
                require 'yaml'; require 'json'
                SLOTS = {{JsonSerializer.Serialize(Slots)}}; VENDORS = {{JsonSerializer.Serialize(Vendors)}}
                def texts(v) = v.is_a?(Array) && v.all? { |x| x.is_a?(String) } ? v : nil
                ARGV.each do |f|
                  c = begin
                    { :filter => '0:0', :short_address => [], :device_name => [], :nvidia_vendors => ['10de'] }.merge(YAML.load_file(f))
                  rescue Psych::SyntaxError, Psych::BadAlias # not YAML to libyaml, or an alias: pci.rb's "Invalid configuration"
                    next puts(JSON.generate([['unloadable']] * 4))
                  rescue StandardError # pci.rb's "Invalid configuration" for a typed value (a date): nothing to compare
                    next puts(JSON.generate([nil, nil, nil, nil]))
                  end
                  s, d, n = c[:short_address], c[:device_name], c[:nvidia_vendors]
                  puts JSON.generate([
                    c[:filter].nil? ? ['*:*'] : [c[:filter]].flatten.include?(nil) ? ['stops'] : texts([c[:filter]].flatten)&.flat_map { |x| x.split(',', -1) },
                    s.nil? ? ['stops'] : !texts([s].flatten) ? nil : s.empty? ? ['all'] : SLOTS.select { |x| s.include?(x) },
                    d.nil? ? ['stops'] : !texts([d].flatten) ? nil : d.empty? ? [] : d.is_a?(String) ? ['stops'] : d,
                    n.nil? ? ['stops'] : !texts([n].flatten) ? nil : VENDORS.select { |x| n.include?(x) }])
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
