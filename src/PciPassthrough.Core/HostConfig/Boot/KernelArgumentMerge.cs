namespace PciPassthrough.HostConfig.Boot;

/// <summary>
/// How the module changes a kernel command line, whichever file holds it: an argument with the same
/// name (before '=') is replaced and others appended; list arguments shared by several writers gain
/// the missing items and lose the removed ones; intel_iommu=/amd_iommu= keep their other sub-options.
/// </summary>
internal static class KernelArgumentMerge
{
    /// <summary>Arguments whose value is a comma-separated list that several writers share.</summary>
    private static readonly HashSet<string> ListArguments = new(StringComparer.Ordinal) { "rd.driver.blacklist", "modprobe.blacklist", "rd.driver.pre" };

    public static List<string> Apply(IEnumerable<string> current, IReadOnlyList<string> wanted, IReadOnlyCollection<string>? removedItems = null)
    {
        var args = current.ToList();
        var removed = removedItems ?? [];
        for (var i = args.Count - 1; i >= 0 && removed.Count > 0; i--)
        {
            var name = Name(args[i]);
            if (ListArguments.Contains(name))
            {
                var items = Items(args[i]).Where(x => !removed.Contains(x)).ToList();
                if (items.Count == 0)
                {
                    args.RemoveAt(i);
                }
                else
                {
                    args[i] = $"{name}={string.Join(',', items)}";
                }
            }
        }

        foreach (var arg in wanted)
        {
            var name = Name(arg);
            var index = args.FindIndex(a => Name(a) == name);
            if (index < 0)
            {
                args.Add(arg);
            }
            else if (ListArguments.Contains(name) || name is "intel_iommu" or "amd_iommu")
            {
                var items = Items(args[index]);
                var add = Items(arg);
                if (name is "intel_iommu" or "amd_iommu")
                {
                    // on and off contradict each other; every other sub-option (sm_on, igfx_off, ...) stays.
                    items.RemoveAll(x => x is "on" or "off" && add.Any(a => a is "on" or "off"));
                    items.InsertRange(0, add.Where(a => !items.Contains(a)));
                }
                else
                {
                    items.AddRange(add.Where(a => !items.Contains(a)));
                }

                args[index] = $"{name}={string.Join(',', items)}";
            }
            else
            {
                args[index] = arg;
            }
        }

        return args;
    }

    private static string Name(string arg) => arg.Split('=')[0];

    private static List<string> Items(string arg) =>
        arg.Split('=', 2).ElementAtOrDefault(1)?.Split(',', StringSplitOptions.RemoveEmptyEntries).ToList() ?? [];
}
