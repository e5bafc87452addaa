using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Daemons;

/// <summary>Checks shared by every fixture self-test.</summary>
internal static class DaemonAssert
{
    /// <summary>Bound for any single exchange with a daemon.</summary>
    public static readonly TimeSpan NetTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Per-test bound (ms) for xunit's Timeout: a start, a few exchanges and a stop.</summary>
    public const int TestTimeoutMs = 180_000;

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Disposes <paramref name="daemon"/> and asserts its pid is gone, its port closed and its temp dir deleted.</summary>
    public static async Task StopsCleanlyAsync(Daemon daemon)
    {
        var pid = daemon.Pid;
        var endPoint = daemon.EndPoint;
        var dir = daemon.TempDirectory;
        Assert.True(DaemonProcess.IsRunning(pid), $"{daemon} should be running before disposal.");
        Assert.True(Directory.Exists(dir));

        await daemon.DisposeAsync();

        Assert.False(daemon.IsRunning);
        Assert.False(DaemonProcess.IsRunning(pid), $"pid {pid} of {daemon} still runs after disposal.");
        Assert.False(await WireProbe.TryConnectAsync(endPoint, TimeSpan.FromSeconds(2), Ct), $"{endPoint} still accepts connections after disposal.");
        Assert.False(Directory.Exists(dir), $"{dir} was not deleted.");
    }

    /// <summary>
    /// Asserts the daemon binds only its own address: the same port on another loopback address is closed. That
    /// address is a fresh one from <see cref="ExposureIndex.TestCommon.Loopback.NextAddress"/>, so no daemon of a test
    /// running alongside can be listening there (a numeric neighbour could belong to one: two mail daemons on port 25).
    /// </summary>
    public static async Task BindsOnlyItsAddressAsync(Daemon daemon)
    {
        var other = ExposureIndex.TestCommon.Loopback.NextAddress();
        Assert.NotEqual(daemon.Address, other);
        var probe = new System.Net.IPEndPoint(other, daemon.Port);
        Assert.False(await WireProbe.TryConnectAsync(probe, TimeSpan.FromSeconds(2), Ct), $"{daemon} also answers on {probe}: it must bind only {daemon.Address}.");
    }
}
