namespace PciPassthrough.TestSupport;

/// <summary>
/// A fake iproute2 <c>ip</c> in its own folder: it records each argv (one line, each argument in brackets),
/// prints a JSON fixture for <c>ip -j ...</c>, and fails a <c>link set</c> whose argv contains a given text, as
/// the kernel's answer would. Never the real ip: nothing here reaches netlink.
/// </summary>
public sealed class FakeIp : IDisposable
{
    public FakeIp(string fixture, string? failWhen = null, string error = "RTNETLINK answers: Invalid argument")
    {
        Dir = Path.Combine(Path.GetTempPath(), "pcipt-ip-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Dir);
        Json = Path.Combine(Dir, "link.json");
        File.Copy(Path.Combine(RepoPaths.Root, "tests", "PciPassthrough.TestSupport", "IpLink", fixture), Json);
        Log = Path.Combine(Dir, "argv.log");
        File.WriteAllText(Executable, $"""
            #!/bin/sh
            for a in "$@"; do printf '[%s]' "$a"; done >> '{Log}'
            echo >> '{Log}'
            if [ "$1" = -j ]; then cat '{Json}'; exit 0; fi
            {(failWhen is null ? "" : $"case \"$*\" in *'{failWhen}'*) echo '{error}' >&2; exit 2;; esac")}
            exit 0
            """.Replace("\r", "", StringComparison.Ordinal));
        File.SetUnixFileMode(Executable, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
    }

    /// <summary>The folder to put first on PATH.</summary>
    public string Dir { get; }

    public string Executable => Path.Combine(Dir, "ip");

    public string Json { get; }

    public string Log { get; }

    /// <summary>Each call's argv as "[a][b]...".</summary>
    public string[] Calls => File.Exists(Log) ? File.ReadAllLines(Log) : [];

    public void Dispose()
    {
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
