using System.Net;
using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Grabbers;

/// <summary>
/// Every grab is capped (GUIDE §3.6, zgrab2's timeout connection): a connect timeout, a per-read timeout,
/// a total deadline over the whole grab (reconnects included) and a byte cap per connection. A tarpit, an
/// endless banner or a slow drip therefore costs bounded time and memory.
/// </summary>
public sealed record GrabLimits
{
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(3);

    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(3);

    public TimeSpan TotalDeadline { get; init; } = TimeSpan.FromSeconds(20);

    public int MaxBytesPerConnection { get; init; } = 256 * 1024;

    /// <summary>Identifies the crawler to web servers: the project name and a contact URL.</summary>
    public string UserAgent { get; init; } = "ExposureIndex-Crawler/0.1 (+https://github.com/exposureindex/exposureindex)";
}

/// <summary>The service being grabbed. <see cref="ServerName"/> is used for SNI and the HTTP Host header when known.</summary>
public sealed record GrabTarget(IPAddress Address, int Port, Transport Transport)
{
    public string? ServerName { get; init; }

    public IPEndPoint EndPoint => new(Address, Port);

    /// <summary>The Host header / SNI value: the server name, else the address literal (bracketed for IPv6).</summary>
    public string HostHeader => ServerName ?? (Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString()) + (Port is 80 or 443 ? string.Empty : ":" + Port.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public override string ToString() => $"{EndPoint}/{(Transport == Transport.Udp ? "udp" : "tcp")}";
}

/// <summary>A grab hit one of its caps. Carries the outcome it maps to.</summary>
public sealed class GrabLimitException : Exception
{
    public GrabLimitException(GrabOutcome outcome, string message)
        : base(message) => Outcome = outcome;

    public GrabLimitException()
    {
    }

    public GrabLimitException(string message)
        : base(message)
    {
    }

    public GrabLimitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public GrabOutcome Outcome { get; } = GrabOutcome.IoTimeout;
}
