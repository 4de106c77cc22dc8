using System.Diagnostics;
using PciPassthrough.Binding;

namespace PciPassthrough.Core.Tests;

/// <summary>The lock tells "another binder holds it" from everything else that can be wrong with it (D24, §5.6).</summary>
public class BindingLockTests
{
    [Fact]
    public void A_directory_in_the_locks_place_is_named_at_once_not_waited_out_or_blamed_on_root()
    {
        using var f = new BindingFixture();
        var path = f.Root.Resolve(BindingLock.HostPath);
        Directory.CreateDirectory(path);
        var waited = Stopwatch.StartNew();
        var e = Assert.Throws<PciPassthroughException>(() => f.Binder(lockTimeout: TimeSpan.FromSeconds(30)).Bind([BindingFixture.Nic1], f.Log.Add));
        Assert.Equal(ErrorIds.LockUnavailable, e.ErrorId);
        Assert.Equal(path, e.Target);
        Assert.Contains(path, e.Message);
        Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), $"took {waited.Elapsed}");
        Assert.Empty(f.Kernel.Writes);
    }

    [Fact]
    public void A_link_planted_at_the_locks_name_is_not_followed()
    {
        using var f = new BindingFixture();
        // A link inside the root, so that only O_NOFOLLOW stands between the binder and its target.
        var target = f.Host.WriteFile("etc/shadow", "root:x:0");
        f.Host.Link("run/lock/pcipassthrough.lock", "../../etc/shadow");
        var e = Assert.Throws<PciPassthroughException>(() => BindingLock.Acquire(f.Root, TimeSpan.Zero, CancellationToken.None));
        Assert.True(e.ErrorId == ErrorIds.LockUnavailable, $"{e.ErrorId}: {e.Message}");

        // Not taken on the target either: another opener can still lock it.
        Assert.Equal("root:x:0", File.ReadAllText(target));
        new FileStream(target, FileMode.Open, FileAccess.Read, FileShare.None).Dispose();
    }

    [Fact]
    public void A_held_lock_is_busy_and_a_released_one_is_taken()
    {
        using var f = new BindingFixture();
        var first = BindingLock.Acquire(f.Root, TimeSpan.Zero, CancellationToken.None);
        var e = Assert.Throws<PciPassthroughException>(() => BindingLock.Acquire(f.Root, TimeSpan.FromMilliseconds(100), CancellationToken.None));
        Assert.Equal(ErrorIds.LockTimeout, e.ErrorId);
        first.Dispose();

        // Not TimeSpan.Zero: a process another test starts in this process forks with every descriptor, and until its
        // exec closes them (O_CLOEXEC) the child shares the released lock's open file, so flock may still say busy.
        BindingLock.Acquire(f.Root, TimeSpan.FromSeconds(5), CancellationToken.None).Dispose();
    }
}
