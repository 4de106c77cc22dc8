using PciPassthrough.Binding;

namespace PciPassthrough.Core.Tests;

/// <summary>
/// WriteVerbose and WriteProgress throw once a pipeline is stopped (Ctrl+C): that must stop the
/// transaction, never its rollback (findings §5.3).
/// </summary>
public class CallerCallbackTests
{
    private const string Nic1 = BindingFixture.Nic1;
    private const string Nic2 = BindingFixture.Nic2;

    [Fact]
    public void A_log_that_throws_mid_transaction_stops_it_and_every_device_goes_back()
    {
        using var f = new BindingFixture();
        var calls = 0;
        void Log(string message)
        {
            calls++;
            if (message.StartsWith(Nic2, StringComparison.Ordinal))
            {
                throw new PipelineStopped();
            }
        }

        Assert.Throws<PipelineStopped>(() => f.Binder().Bind([Nic1, Nic2], Log));
        AssertAsBefore(f);
        Assert.Contains(f.Kernel.Writes, w => w.Path == "/sys/bus/pci/drivers/vfio-pci/unbind" && w.Value == Nic1);
        var after = calls;
        f.Binder().Bind([Nic1], _ => calls++); // the next call has nothing to repair
        Assert.Equal(("vfio-pci", "vfio-pci"), f.State(Nic1));
        Assert.True(calls > after);
    }

    [Fact]
    public void Progress_that_throws_after_the_first_device_rolls_the_first_device_back()
    {
        using var f = new BindingFixture();
        Assert.Throws<PipelineStopped>(() => f.Binder().Bind([Nic1, Nic2], _ => { }, (done, _) => throw new PipelineStopped()));
        AssertAsBefore(f);
        Assert.DoesNotContain(f.Kernel.Writes, w => w.Value.Trim() == Nic2);
    }

    [Fact]
    public void A_log_that_throws_during_a_rollback_does_not_cut_it_short()
    {
        using var f = new BindingFixture();
        f.Host.Add(new FakeDevice("0000:03:00.0") { Driver = "e1000", IommuGroup = 3 });
        var failed = false; // its bind fails once; its return works
        f.Kernel.FailWhen = (_, path, value) => path == "/sys/bus/pci/drivers_probe" && value == "0000:03:00.0" && !failed && (failed = true);
        void Log(string message)
        {
            if (message.Contains("returned to", StringComparison.Ordinal))
            {
                throw new PipelineStopped();
            }
        }

        Assert.Throws<PipelineStopped>(() => f.Binder().Bind([Nic1, Nic2, "0000:03:00.0"], Log));
        AssertAsBefore(f);
        Assert.Equal(("e1000", null), f.State("0000:03:00.0"));
    }

    private static void AssertAsBefore(BindingFixture f)
    {
        Assert.Equal(("e1000", null), f.State(Nic1));
        Assert.Equal(("e1000", "e1000"), f.State(Nic2));
        Assert.Empty(new BindingState(f.Root).ReadJournal());
        Assert.Null(new BindingState(f.Root).ReadOrigin(Nic1));
    }

    private sealed class PipelineStopped : Exception;
}
