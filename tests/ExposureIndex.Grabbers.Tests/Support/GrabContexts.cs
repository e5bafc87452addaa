using System.Net;
using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Grabbers.Tests.Support;

/// <summary>Grab contexts aimed at loopback test servers.</summary>
internal static class GrabContexts
{
    /// <summary>Short caps, so hostile peers are cut off within a few seconds whatever they do.</summary>
    public static GrabLimits Short { get; } = new()
    {
        ConnectTimeout = TimeSpan.FromSeconds(2),
        ReadTimeout = TimeSpan.FromMilliseconds(800),
        TotalDeadline = TimeSpan.FromSeconds(4),
        MaxBytesPerConnection = 256 * 1024,
    };

    /// <summary>Roomy caps for well-behaved peers (TLS handshakes, SSH key exchange) on a busy machine.</summary>
    public static GrabLimits Roomy { get; } = new()
    {
        ConnectTimeout = TimeSpan.FromSeconds(5),
        ReadTimeout = TimeSpan.FromSeconds(5),
        TotalDeadline = TimeSpan.FromSeconds(30),
    };

    public static GrabContext For(IPEndPoint endPoint, GrabLimits? limits = null, Transport transport = Transport.Tcp, bool tls = false, string? service = null)
    {
        Assert.True(IPAddress.IsLoopback(endPoint.Address), "tests only talk to loopback");
        return new GrabContext
        {
            Target = new GrabTarget(endPoint.Address, endPoint.Port, transport),
            Limits = limits ?? Short,
            Network = SocketGrabNetwork.Instance,
            Tls = tls,
            Service = service,
        };
    }
}
