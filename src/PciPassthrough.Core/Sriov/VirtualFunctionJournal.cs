using System.Globalization;
using PciPassthrough.Binding;
using PciPassthrough.HostConfig;

namespace PciPassthrough.Sriov;

/// <summary>One VF of an unfinished Set-PciVirtualFunction call: where it was, and the values it had before.</summary>
public sealed record VirtualFunctionJournalEntry(string PciAddress, string PhysicalFunction, string PhysicalFunctionInterface, int Index, VirtualFunctionSettings Previous)
{
    /// <summary>The ip argv that gives the VF its previous values.</summary>
    public IReadOnlyList<string> Argv => VirtualFunctionConfigurator.Argv(PhysicalFunctionInterface, Index, Previous);

    public string CommandLine => "ip " + string.Join(' ', Argv);

    public override string ToString() => $"{PciAddress}: {CommandLine}";

    internal string Serialize() =>
        $"{PciAddress}\t{PhysicalFunction}\t{PhysicalFunctionInterface}\t{Index.ToString(CultureInfo.InvariantCulture)}\t{string.Join(' ', Argv.Skip(6))}";

    /// <exception cref="FormatException">The line is not one the configurator writes.</exception>
    internal static VirtualFunctionJournalEntry Parse(string line, int number)
    {
        var f = line.Split('\t');
        var where = $"line {number}";
        if (f.Length != 5 || !PciPassthrough.PciAddress.TryParse(f[0], out var vf) || !PciPassthrough.PciAddress.TryParse(f[1], out var pf) || f[2].Length == 0 || f[2].Contains(' ', StringComparison.Ordinal)
            || !int.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            throw new FormatException($"{where} is not 'VF<TAB>PF<TAB>PF-INTERFACE<TAB>INDEX<TAB>ip-arguments'");
        }

        var words = f[4].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return new(vf.ToString(), pf.ToString(), f[2], index, words.Length == 0 ? new() : SriovBootConfiguration.ParseArguments(words, where));
    }
}

/// <summary>
/// Set-PciVirtualFunction's intent journal (/run/pcipassthrough/vf-journal, next to the binding journal): every VF of
/// a call with the values it had, written under the lock before the first <c>ip</c> call and removed once the call has
/// finished or rolled back. A call that dies leaves it; the next call replays it, under the lock, before its own steps,
/// and only for the VFs it names that are still the same VF (same PF, index and PF interface).
/// </summary>
internal static class VirtualFunctionJournal
{
    public static IReadOnlyList<VirtualFunctionJournalEntry> Read(BindingState state)
    {
        IReadOnlyList<string> lines;
        try
        {
            lines = state.ReadVfJournal();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ErrorCatalog.VirtualFunctionJournalUnreadable(state.VfJournalFile, e.Message, e);
        }

        try
        {
            return lines.Select((l, i) => VirtualFunctionJournalEntry.Parse(l, i + 1)).ToList();
        }
        catch (FormatException e)
        {
            throw ErrorCatalog.VirtualFunctionJournalUnreadable(state.VfJournalFile, e.Message, e);
        }
    }

    public static void Write(BindingState state, IEnumerable<VirtualFunctionJournalEntry> entries) => state.WriteVfJournal(entries.Select(e => e.Serialize()));
}
