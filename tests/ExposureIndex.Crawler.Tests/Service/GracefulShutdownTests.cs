using System.Diagnostics;
using ExposureIndex.Crawler.Service;
using ExposureIndex.Crawler.Tests.RateLimiting;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Crawler.Tests.Service;

public sealed class GracefulShutdownTests
{
    [Fact]
    public void RequestStop_First_DrainsThenAbortsAfterTheTimeout()
    {
        var time = new ManualTimeProvider();
        using var shutdown = new GracefulShutdown(TimeSpan.FromSeconds(20), time, registerSignals: false);
        Assert.False(shutdown.Stopping.IsCancellationRequested);
        shutdown.RequestStop("SIGTERM");
        Assert.True(shutdown.Stopping.IsCancellationRequested);
        Assert.False(shutdown.Aborting.IsCancellationRequested);
        Assert.Equal("SIGTERM", shutdown.Reason);
        time.Advance(TimeSpan.FromSeconds(19));
        Assert.False(shutdown.Aborting.IsCancellationRequested);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(shutdown.Aborting.IsCancellationRequested);
    }

    [Fact]
    public void RequestStop_Second_AbortsAtOnce()
    {
        using var shutdown = new GracefulShutdown(TimeSpan.FromMinutes(5), new ManualTimeProvider(), registerSignals: false);
        shutdown.RequestStop("SIGTERM");
        shutdown.RequestStop("SIGINT");
        Assert.True(shutdown.Aborting.IsCancellationRequested);
        Assert.Equal("SIGTERM", shutdown.Reason);
        Assert.Equal(2, shutdown.Requests);
    }

    [Fact]
    public async Task Sigterm_ToThisProcess_StartsTheDrainInsteadOfExiting()
    {
        if (!OperatingSystem.IsLinux())
        {
            Requires.SkipOrFail("POSIX signals are tested on Linux");
        }

        var kill = Requires.Executable("kill", "procps");
        using var shutdown = new GracefulShutdown(TimeSpan.FromMinutes(5), TimeProvider.System);
        using var process = Process.Start(kill, ["-TERM", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.True(await Poll.UntilAsync(() => shutdown.Stopping.IsCancellationRequested, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        Assert.Equal("SIGTERM", shutdown.Reason);
        Assert.False(shutdown.Aborting.IsCancellationRequested);
    }

    [Fact]
    public void Drain_ThenTheSameSignal_DrainsWithoutAborting()
    {
        // The CLI's own token and this registration both see one SIGTERM: that is one stop, not two.
        using var shutdown = new GracefulShutdown(TimeSpan.FromMinutes(5), new ManualTimeProvider(), registerSignals: false);
        shutdown.Drain("cancelled");
        Assert.True(shutdown.Stopping.IsCancellationRequested);
        shutdown.RequestStop("SIGTERM");
        Assert.False(shutdown.Aborting.IsCancellationRequested);
        Assert.Equal("SIGTERM", shutdown.Reason);
        shutdown.RequestStop("SIGTERM");
        Assert.True(shutdown.Aborting.IsCancellationRequested);
    }
}
