using System.Globalization;
using System.Text;

namespace PciPassthrough.HostConfig;

/// <summary>A unified diff (diff -u) of two texts, for -WhatIf and for the change record of every write.</summary>
internal static class UnifiedDiff
{
    private const int Context = 3;

    /// <summary>The diff, or an empty string when the texts are equal. A null old text is a new file.</summary>
    public static string Create(string? oldText, string newText, string path)
    {
        if (oldText == newText)
        {
            return "";
        }

        var a = Lines(oldText);
        var b = Lines(newText);
        var ops = Align(a, b);
        var sb = new StringBuilder();
        sb.Append(oldText is null ? "--- /dev/null\n" : "--- a" + path + "\n").Append("+++ b" + path + "\n");
        var i = 0;
        while (i < ops.Count)
        {
            if (ops[i].Kind == ' ')
            {
                i++;
                continue;
            }

            // A hunk: from Context lines before this change to Context lines after the last change
            // that is at most 2*Context lines away.
            var start = Math.Max(0, i - Context);
            var end = i;
            while (end < ops.Count)
            {
                var next = end;
                while (next < ops.Count && ops[next].Kind == ' ')
                {
                    next++;
                }

                if (next == ops.Count || next - end > 2 * Context)
                {
                    break;
                }

                end = next + 1;
                while (end < ops.Count && ops[end].Kind != ' ')
                {
                    end++;
                }
            }

            var stop = Math.Min(ops.Count, end + Context);
            var hunk = ops.GetRange(start, stop - start);
            var oldStart = hunk.First().OldIndex;
            var newStart = hunk.First().NewIndex;
            var oldCount = hunk.Count(o => o.Kind != '+');
            var newCount = hunk.Count(o => o.Kind != '-');
            sb.Append(CultureInfo.InvariantCulture, $"@@ -{(oldCount == 0 ? oldStart : oldStart + 1)},{oldCount} +{(newCount == 0 ? newStart : newStart + 1)},{newCount} @@\n");
            foreach (var o in hunk)
            {
                sb.Append(o.Kind).Append(o.Text).Append('\n');
            }

            i = stop;
        }

        return sb.ToString();
    }

    private static string[] Lines(string? text) =>
        string.IsNullOrEmpty(text) ? [] : text.TrimEnd('\n').Split('\n');

    // Longest common subsequence; configuration files are small, and a huge pair falls back to
    // "all removed, all added", which is still a correct diff.
    private static List<(char Kind, string Text, int OldIndex, int NewIndex)> Align(string[] a, string[] b)
    {
        var ops = new List<(char, string, int, int)>();
        if ((long)a.Length * b.Length > 25_000_000)
        {
            ops.AddRange(a.Select((t, k) => ('-', t, k, 0)));
            ops.AddRange(b.Select((t, k) => ('+', t, a.Length, k)));
            return ops;
        }

        var lcs = new int[a.Length + 1, b.Length + 1];
        for (var x = a.Length - 1; x >= 0; x--)
        {
            for (var y = b.Length - 1; y >= 0; y--)
            {
                lcs[x, y] = a[x] == b[y] ? lcs[x + 1, y + 1] + 1 : Math.Max(lcs[x + 1, y], lcs[x, y + 1]);
            }
        }

        int p = 0, q = 0;
        while (p < a.Length || q < b.Length)
        {
            if (p < a.Length && q < b.Length && a[p] == b[q])
            {
                ops.Add((' ', a[p], p++, q++));
            }
            else if (p < a.Length && (q == b.Length || lcs[p + 1, q] >= lcs[p, q + 1]))
            {
                ops.Add(('-', a[p], p++, q)); // removals before additions, as diff -u prints a change
            }
            else
            {
                ops.Add(('+', b[q], p, q++));
            }
        }

        return ops;
    }
}
