using System.Net;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers;

/// <summary>
/// Shared set-up for the real-daemon grabber tests: a context aimed at the daemon, a grab with an outer bound, and
/// the success check that shows the daemon's log when the grab fails.
/// </summary>
internal static class GrabRun
{
    /// <summary>Per-test bound (ms): a daemon start, a grab or two and a stop.</summary>
    public const int TestTimeoutMs = 180_000;

    /// <summary>Generous caps: the daemons are local, but the machine is shared and slow at times.</summary>
    public static readonly GrabLimits Limits = new()
    {
        ConnectTimeout = TimeSpan.FromSeconds(5),
        ReadTimeout = TimeSpan.FromSeconds(5),
        TotalDeadline = TimeSpan.FromSeconds(60),
    };

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static GrabContext Context(IPEndPoint endPoint, Transport transport = Transport.Tcp, bool tls = false, string? service = null, string? serverName = null) => new()
    {
        Target = new GrabTarget(endPoint.Address, endPoint.Port, transport) { ServerName = serverName },
        Limits = Limits,
        Network = SocketGrabNetwork.Instance,
        Tls = tls,
        Service = service,
    };

    /// <summary>Runs a grab with an outer bound, so a grabber bug cannot hang the test.</summary>
    public static async Task<GrabResult> GrabAsync(IGrabber grabber, GrabContext context)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(90));
        return await grabber.GrabAsync(context, cts.Token);
    }

    /// <summary>Grabs <paramref name="daemon"/> on its endpoint over the grabber's own transport.</summary>
    public static Task<GrabResult> GrabAsync(IGrabber grabber, Daemon daemon)
        => GrabAsync(grabber, Context(daemon.EndPoint, grabber.Transport));

    /// <summary>The record names the daemon's product, the exact version its binary or package reports, and that version's CPE 2.3 name.</summary>
    public static void AssertExactVersion(ServiceRecord record, Daemon daemon, string cpeVendor, string cpeProduct)
    {
        Assert.Equal(daemon.Product, record.Product);
        Assert.Equal(daemon.Version, record.Version);
        Assert.Equal($"cpe:2.3:a:{cpeVendor}:{cpeProduct}:{daemon.Version}:*:*:*:*:*:*:*", Assert.Single(record.Cpe23));
    }

    /// <summary>
    /// Grabs <paramref name="daemon"/> (with <paramref name="context"/>, else on its endpoint over the grabber's own
    /// transport) and asserts the grab succeeded, showing the daemon's log tail when not. Returns the record.
    /// </summary>
    public static async Task<ServiceRecord> SucceedsAsync(IGrabber grabber, Daemon daemon, GrabContext? context = null)
    {
        var result = await GrabAsync(grabber, context ?? Context(daemon.EndPoint, grabber.Transport));
        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{daemon.LogTail()}");
        return result.Fragment;
    }
}
