using System.Net;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers;

namespace ExposureIndex.IntegrationTests.Grabbers.Tls;

/// <summary>Shared set-up for the HTTP, TLS and SSH real-daemon grabber tests.</summary>
internal static class GrabRun
{
    public const int TestTimeoutMs = 180_000;

    /// <summary>Generous caps: the daemons are local, but the machine is shared and slow at times.</summary>
    public static readonly GrabLimits Limits = new()
    {
        ConnectTimeout = TimeSpan.FromSeconds(5),
        ReadTimeout = TimeSpan.FromSeconds(5),
        TotalDeadline = TimeSpan.FromSeconds(60),
    };

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static GrabContext Context(IPEndPoint endPoint, bool tls = false, string? service = null, string? serverName = null) => new()
    {
        Target = new GrabTarget(endPoint.Address, endPoint.Port, Transport.Tcp) { ServerName = serverName },
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
}
