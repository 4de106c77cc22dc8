using System.Globalization;
using System.Text.RegularExpressions;
using PciPassthrough.Binding;
using PciPassthrough.Host;

namespace PciPassthrough.Sriov;

/// <summary>The admin attributes Set-PciVirtualFunction sets; null members are left as they are.</summary>
public sealed record VirtualFunctionSettings(
    string? MacAddress = null,
    int? VlanId = null,
    int? VlanQos = null,
    string? VlanProtocol = null,
    bool? SpoofCheck = null,
    bool? Trust = null,
    VirtualFunctionLinkState? LinkState = null,
    int? MaxTxRateMbps = null,
    int? MinTxRateMbps = null)
{
    /// <summary>
    /// What a VF is given back between users (sriov-cni's release defaults): no admin MAC, no VLAN, spoof
    /// checking on, not trusted, link following the PF, no rate limits. A stale VLAN or MAC is inherited by the
    /// next guest otherwise.
    /// </summary>
    public static VirtualFunctionSettings SafeDefaults { get; } = new("00:00:00:00:00:00", 0, null, null, true, false, VirtualFunctionLinkState.Auto, 0, 0);
}

/// <summary>One VF's change: the VF as read before, and the <c>ip</c> argument vector that makes it.</summary>
public sealed record VirtualFunctionConfigurationStep(VirtualFunction VirtualFunction, IReadOnlyList<string> Argv)
{
    public string CommandLine => "ip " + string.Join(' ', Argv);
}

/// <summary>
/// Sets VF admin attributes with <c>ip link set dev &lt;pf&gt; vf N ...</c> (argv, no shell), one call per VF, under
/// the module's lock. The values each VF had are read first and kept in a journal on disk; when a VF of the call
/// fails, the VFs already changed get their values back, newest first, as libvirt restores a VF's saved MAC and
/// VLAN; when the process dies, the next call replays the journal (<see cref="VirtualFunctionJournal"/>).
/// </summary>
public sealed partial class VirtualFunctionConfigurator(HostSession host, IpCommand? ip, TimeSpan lockTimeout, CancellationToken cancel)
{
    private static readonly TimeSpan IpTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Throws InvalidMacAddress or InvalidVlanId for values no VF can take.</summary>
    public static void Validate(VirtualFunctionSettings s, bool reset)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (s.MacAddress is string mac)
        {
            if (!MacPattern().IsMatch(mac))
            {
                throw ErrorCatalog.InvalidMacAddress(mac, "it is not six hex octets separated by colons");
            }

            if ((Convert.ToInt32(mac[..2], 16) & 1) == 1)
            {
                throw ErrorCatalog.InvalidMacAddress(mac, "it is a multicast address");
            }

            if (!reset && mac.Replace(":", "", StringComparison.Ordinal).All(c => c == '0'))
            {
                throw ErrorCatalog.InvalidMacAddress(mac, "the all-zero address clears the MAC; use -Reset for that");
            }
        }

        if (s.VlanId is int vlan && vlan is < 0 or > 4095)
        {
            throw ErrorCatalog.InvalidVlanId($"VLAN {vlan}", "a VLAN ID is 0 to 4095");
        }

        if (s.VlanId is null && (s.VlanQos is not null || s.VlanProtocol is not null))
        {
            throw ErrorCatalog.InvalidVlanId("-VlanQos/-VlanProtocol", "ip sets the QoS and protocol only together with the VLAN ID");
        }
    }

    /// <summary>The step for one VF (read with its network configuration), or PhysicalFunctionHasNoNetworkInterface / VirtualFunctionAttributeUnsupported.</summary>
    public static VirtualFunctionConfigurationStep Plan(VirtualFunction vf, VirtualFunctionSettings s)
    {
        ArgumentNullException.ThrowIfNull(vf);
        ArgumentNullException.ThrowIfNull(s);
        if (vf.PhysicalFunctionInterface is null || vf.Index < 0)
        {
            throw ErrorCatalog.PhysicalFunctionHasNoNetworkInterface(vf.PciAddress, vf.PhysicalFunction);
        }

        // ip leaves out spoofchk and trust when the driver reports -1: such a driver cannot set them either.
        if (s.SpoofCheck is not null && vf.SpoofCheck is null && vf.LinkState is not null)
        {
            throw ErrorCatalog.VirtualFunctionAttributeUnsupported(vf.PciAddress, "MAC spoof checking");
        }

        if (s.Trust is not null && vf.Trust is null && vf.LinkState is not null)
        {
            throw ErrorCatalog.VirtualFunctionAttributeUnsupported(vf.PciAddress, "trusted mode");
        }

        return new(vf, Argv(vf.PhysicalFunctionInterface, vf.Index, s));
    }

    /// <summary>iproute2's order: mac, vlan [qos] [proto], max_tx_rate, min_tx_rate, spoofchk, state, trust.</summary>
    public static IReadOnlyList<string> Argv(string pfInterface, int index, VirtualFunctionSettings s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var argv = new List<string> { "link", "set", "dev", pfInterface, "vf", Text(index) };
        if (s.MacAddress is string mac)
        {
            argv.AddRange(["mac", mac.ToLowerInvariant()]);
        }

        if (s.VlanId is int vlan)
        {
            argv.AddRange(["vlan", Text(vlan)]);
            if (s.VlanQos is int qos)
            {
                argv.AddRange(["qos", Text(qos)]);
            }

            if (s.VlanProtocol is string proto)
            {
                argv.AddRange(["proto", proto]);
            }
        }

        if (s.MaxTxRateMbps is int max)
        {
            argv.AddRange(["max_tx_rate", Text(max)]);
        }

        if (s.MinTxRateMbps is int min)
        {
            argv.AddRange(["min_tx_rate", Text(min)]);
        }

        if (s.SpoofCheck is bool spoof)
        {
            argv.AddRange(["spoofchk", spoof ? "on" : "off"]);
        }

        if (s.LinkState is VirtualFunctionLinkState state)
        {
            argv.AddRange(["state", state.ToString().ToLowerInvariant()]);
        }

        if (s.Trust is bool trust)
        {
            argv.AddRange(["trust", trust ? "on" : "off"]);
        }

        return argv;
    }

    /// <summary>What gives a VF back the values it had (only those ip reported).</summary>
    public static VirtualFunctionSettings Previous(VfNetworkState? before) => before is null
        ? new VirtualFunctionSettings()
        : new VirtualFunctionSettings(
            before.MacAddress,
            before.VlanId ?? 0,
            before.VlanId is null ? null : before.VlanQos ?? 0,
            before.VlanId is null ? null : before.VlanProtocol,
            before.SpoofCheck,
            before.Trust,
            before.LinkState,
            before.MaxTxRateMbps,
            before.MinTxRateMbps);

    /// <summary>The journal an interrupted call left (what the next call restores first); empty when there is none.</summary>
    public IReadOnlyList<VirtualFunctionJournalEntry> ReadJournal() => VirtualFunctionJournal.Read(new BindingState(host.Root));

    /// <summary>Drops the journal of an interrupted call under the lock, restoring nothing; returns what it named.</summary>
    public IReadOnlyList<VirtualFunctionJournalEntry> ClearJournal(Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(log);
        using var held = BindingLock.Acquire(host.Root, lockTimeout, cancel, log);
        var state = new BindingState(host.Root);
        IReadOnlyList<VirtualFunctionJournalEntry> named = [];
        try
        {
            named = VirtualFunctionJournal.Read(state);
        }
        catch (PciPassthroughException e) when (e.ErrorId == ErrorIds.VirtualFunctionJournalUnreadable)
        {
            log(e.Message);
        }

        foreach (var entry in named)
        {
            log($"{entry.PciAddress}: the journal said to restore it with '{entry.CommandLine}'; left as it is.");
        }

        state.ClearVfJournal();
        return named;
    }

    /// <summary>
    /// Runs the steps under the lock; on a failure, the VFs already changed get their values back. A journal left by
    /// an interrupted call is replayed first (<paramref name="warn"/> says so).
    /// </summary>
    public void Apply(IReadOnlyList<VirtualFunctionConfigurationStep> steps, Action<string> log, Action<string>? warn = null)
    {
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(log);
        if (ip is null)
        {
            throw ErrorCatalog.IpCommandUnavailable(host.Root.Path);
        }

        using var held = BindingLock.Acquire(host.Root, lockTimeout, cancel, log);
        var state = new BindingState(host.Root);
        Recover(state, log, warn ?? log);

        // The journal of the call: each VF's values as they are now, read under the lock, on disk before the first change.
        var reader = new VirtualFunctionReader(host) { Ip = ip, IncludeNetworkConfiguration = true };
        var saved = steps.Select(s => reader.NetworkStates(s.VirtualFunction.PhysicalFunctionInterface!)?.GetValueOrDefault(s.VirtualFunction.Index)).ToList();
        VirtualFunctionJournal.Write(state, steps.Select((s, i) => new VirtualFunctionJournalEntry(
            s.VirtualFunction.PciAddress, s.VirtualFunction.PhysicalFunction, s.VirtualFunction.PhysicalFunctionInterface!, s.VirtualFunction.Index, Previous(saved[i]))));
        var done = new List<int>();
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            log($"{step.VirtualFunction.PciAddress}: {step.CommandLine}");
            var (exit, _, error) = ip.Run(step.Argv, IpTimeout);
            if (exit == 0)
            {
                done.Add(i);
                continue;
            }

            var (restored, rolledBack) = RollBack(steps, saved, done.Append(i).Reverse().ToList(), log);
            if (restored)
            {
                // Kept when a restore failed: the next call tries again.
                state.ClearVfJournal();
            }

            if (error.Contains("not supported", StringComparison.OrdinalIgnoreCase))
            {
                throw ErrorCatalog.VirtualFunctionAttributeUnsupported(step.VirtualFunction.PciAddress, "one of the attributes asked for", error.Trim() + " " + rolledBack);
            }

            throw ErrorCatalog.VirtualFunctionConfigurationFailed(step.VirtualFunction.PciAddress, step.CommandLine, error.Trim().Length > 0 ? error.Trim() : $"exit code {exit}", rolledBack);
        }

        state.ClearVfJournal();
    }

    // Only the VFs the journal names, and only while each is still the same VF: VFs recreated since (another count,
    // another PF interface) are not the ones whose values it holds.
    private void Recover(BindingState state, Action<string> log, Action<string> warn)
    {
        var journal = VirtualFunctionJournal.Read(state);
        if (journal.Count == 0)
        {
            return;
        }

        warn($"An earlier Set-PciVirtualFunction did not finish (its process died); giving {string.Join(", ", journal.Select(e => e.PciAddress))} their previous values back.");
        var reader = new VirtualFunctionReader(host);
        foreach (var entry in journal)
        {
            var now = host.Devices.Fresh().Read(PciAddress.Parse(entry.PciAddress)) is { } d ? reader.Of(d) : null;
            if (now is null || now.PhysicalFunction != entry.PhysicalFunction || now.Index != entry.Index || now.PhysicalFunctionInterface != entry.PhysicalFunctionInterface)
            {
                warn($"{entry.PciAddress}: no longer VF {entry.Index} of {entry.PhysicalFunction} ({entry.PhysicalFunctionInterface}); not restored.");
                continue;
            }

            if (entry.Argv.Count <= 6)
            {
                continue; // ip reported nothing to restore
            }

            log($"{entry.PciAddress}: restoring: {entry.CommandLine}");
            var (exit, _, error) = ip!.Run(entry.Argv, IpTimeout);
            if (exit != 0)
            {
                throw ErrorCatalog.VirtualFunctionConfigurationFailed(entry.PciAddress, entry.CommandLine, error.Trim().Length > 0 ? error.Trim() : $"exit code {exit}",
                    $"This restores a VF from the journal of an interrupted call ({state.VfJournalFile}), which stays; this call changed nothing.");
            }
        }

        state.ClearVfJournal();
    }

    private (bool Restored, string Message) RollBack(IReadOnlyList<VirtualFunctionConfigurationStep> steps, List<VfNetworkState?> saved, List<int> touched, Action<string> log)
    {
        var failed = new List<string>();
        foreach (var i in touched)
        {
            var vf = steps[i].VirtualFunction;
            var argv = Argv(vf.PhysicalFunctionInterface!, vf.Index, Previous(saved[i]));
            log($"{vf.PciAddress}: restoring: ip {string.Join(' ', argv)}");
            if (argv.Count > 6 && ip!.Run(argv, IpTimeout).ExitCode != 0)
            {
                failed.Add(vf.PciAddress);
            }
        }

        var names = string.Join(", ", touched.Select(i => steps[i].VirtualFunction.PciAddress));
        return failed.Count == 0
            ? (true, $"The VFs of the call have their previous values again ({names}).")
            : (false, $"Restoring the previous values failed for {string.Join(", ", failed)}: check them with Get-PciVirtualFunction -IncludeNetworkConfiguration; the next Set-PciVirtualFunction tries again from its journal.");
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex("^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")]
    private static partial Regex MacPattern();
}
