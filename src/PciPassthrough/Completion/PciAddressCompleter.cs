using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using PciPassthrough.HostFs;
using PciPassthrough.Ids;
using PciPassthrough.Sysfs;

namespace PciPassthrough.PowerShell.Completion;

/// <summary>Completes <c>-Address</c> with the devices under the command's <c>-Root</c>, named in the tooltip.</summary>
public sealed class PciAddressCompleter : IArgumentCompleter
{
    private const int MaxResults = 100;

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = (wordToComplete ?? "").Trim('\'', '"');
        var rootPath = fakeBoundParameters?["Root"] as string ?? "/";
        var results = new List<CompletionResult>();
        try
        {
            var root = new HostRoot(rootPath);
            var reader = new PciDeviceReader(root, PciIdDatabaseLocator.Locate(root, null));
            foreach (var address in reader.ListAddresses())
            {
                var text = address.ToString();
                if (!text.StartsWith(word, StringComparison.OrdinalIgnoreCase) && !address.ToLspciSlot().StartsWith(word, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var device = reader.Read(address);
                var tooltip = device is null ? text : $"{text} {device.ClassName}: {device.VendorName} {device.DeviceName} ({device.Driver ?? "no driver"})";
                results.Add(new CompletionResult(text, text, CompletionResultType.ParameterValue, tooltip));
                if (results.Count >= MaxResults)
                {
                    break;
                }
            }
        }
        catch (PciPassthroughException)
        {
            // No completions for a root that cannot be read; the command itself will say why.
        }

        return results;
    }
}
