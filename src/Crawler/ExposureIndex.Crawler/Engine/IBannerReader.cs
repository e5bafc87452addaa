using System.Net;
using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Crawler.Engine;

/// <summary>
/// Reads what a freshly connected TCP service says. The seam for the nmap-style probe engine and the
/// per-protocol grabbers: the crawler connects, hands the connection over through a <see cref="BannerSession"/>,
/// and turns the <see cref="BannerResult"/> into a record. Implementations must honour the session's limits
/// and the token (the per-target deadline) and must not throw for anything the peer does.
/// </summary>
public interface IBannerReader
{
    ValueTask<BannerResult> ReadAsync(BannerSession session, CancellationToken cancellationToken);
}

/// <summary>Caps every read (GUIDE §3.6).</summary>
/// <param name="BannerWait">How long a silent server gets before a probe is sent.</param>
/// <param name="ReadTimeout">The longest wait for any later read.</param>
/// <param name="MaxBytes">Bytes kept; reading stops there.</param>
public sealed record BannerLimits(TimeSpan BannerWait, TimeSpan ReadTimeout, int MaxBytes);

/// <summary>One connected ip:port handed to an <see cref="IBannerReader"/>. The crawler owns and closes the connection.</summary>
public sealed class BannerSession
{
    private readonly Action _abort;

    internal BannerSession(IPEndPoint remote, Stream stream, BannerLimits limits, bool isHttpPort, ReadOnlyMemory<byte> httpRequest, TimeProvider time, Action abort)
    {
        Remote = remote;
        Stream = stream;
        Limits = limits;
        IsHttpPort = isHttpPort;
        HttpRequest = httpRequest;
        Time = time;
        _abort = abort;
    }

    public IPEndPoint Remote { get; }

    /// <summary>The connected stream; reads and writes go to the peer.</summary>
    public Stream Stream { get; }

    public BannerLimits Limits { get; }

    /// <summary>The port is configured as a cleartext HTTP port: a silent server gets <see cref="HttpRequest"/>.</summary>
    public bool IsHttpPort { get; }

    /// <summary>The configured minimal <c>GET / HTTP/1.1</c> request for this host (Host, User-Agent with contact URL).</summary>
    public ReadOnlyMemory<byte> HttpRequest { get; }

    /// <summary>The clock for every timeout (injected, so tests can control it).</summary>
    public TimeProvider Time { get; }

    /// <summary>Closes the connection now, which ends any read still pending on it.</summary>
    public void Abort() => _abort();
}

/// <summary>What a reader learned. A partial result is kept alongside its error (GUIDE §3.3).</summary>
/// <param name="Outcome">How the grab ended.</param>
/// <param name="Data">The raw bytes as received (at most the session's MaxBytes).</param>
public sealed record BannerResult(GrabOutcome Outcome, ReadOnlyMemory<byte> Data)
{
    /// <summary>Human-readable error kept with a partial or empty result.</summary>
    public string? Error { get; init; }

    /// <summary>Service name guess, e.g. <c>http</c>, <c>ssh</c> (Shodan's _shodan.module).</summary>
    public string? Module { get; init; }

    /// <summary>Reading stopped at the byte cap while the peer was still sending.</summary>
    public bool Truncated { get; init; }

    /// <summary>Further facts (product, version, cpe23, http, ssh, opts...) merged into the record; the crawler's own fields win.</summary>
    public ServiceRecord? Details { get; init; }
}
