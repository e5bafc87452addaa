using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Targeting;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExposureIndex.Crawler.Engine;

/// <summary>How one ip:port went. <see cref="Record"/> is set only when the port was open.</summary>
internal readonly record struct GrabAttempt(ScanTarget Target, GrabOutcome Outcome, ServiceRecord? Record, string? Error, bool LocalError = false);

/// <summary>Settings of <see cref="ServiceGrabber"/>, taken from the options once.</summary>
internal sealed record GrabSettings(
    TimeSpan ConnectTimeout,
    TimeSpan TargetDeadline,
    BannerLimits Limits,
    PortSet HttpPorts,
    string UserAgent,
    Uri ContactUrl,
    string Scanner,
    string ScanId);

/// <summary>
/// Grabs one ip:port: a TCP connect bounded by the connect timeout, then the banner reader, all inside the
/// per-target deadline (GUIDE §3.6). Refused and timed-out connects produce no record, only an outcome.
/// </summary>
internal sealed class ServiceGrabber(GrabSettings settings, IBannerReader reader, TimeProvider time)
{
    /// <summary>Never throws for anything the network does; throws OperationCanceledException only when <paramref name="abort"/> fires.</summary>
    public async Task<GrabAttempt> GrabAsync(ScanTarget target, CancellationToken abort)
    {
        using var deadline = new CancellationTokenSource(settings.TargetDeadline, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, abort);
        var endpoint = new IPEndPoint(target.Address, target.Port);
        Socket socket;
        try
        {
            socket = new Socket(target.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        }
        catch (SocketException e)
        {
            // E.g. no IPv6 on this machine, or out of file descriptors: our side, not the target's.
            return new GrabAttempt(target, GrabOutcome.Unknown, null, $"cannot open a socket: {e.SocketErrorCode}", LocalError: true);
        }

        using var owned = socket;
        var connect = await ConnectAsync(socket, endpoint, linked.Token).ConfigureAwait(false);
        abort.ThrowIfCancellationRequested();
        if (connect.Outcome != GrabOutcome.Success)
        {
            return connect with { Target = target };
        }

        var observedAt = time.GetUtcNow();
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var session = new BannerSession(
            endpoint,
            stream,
            settings.Limits,
            settings.HttpPorts.Contains(target.Port),
            HttpProbe.BuildRequest(endpoint, settings.UserAgent, settings.ContactUrl),
            time,
            () => socket.Dispose());

        BannerResult result;
        try
        {
            result = await reader.ReadAsync(session, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!abort.IsCancellationRequested)
        {
            result = new BannerResult(GrabOutcome.IoTimeout, ReadOnlyMemory<byte>.Empty) { Error = "per-target deadline reached" };
        }

        abort.ThrowIfCancellationRequested();
        return new GrabAttempt(target, result.Outcome, BuildRecord(target, observedAt, result), result.Error);
    }

    private async Task<GrabAttempt> ConnectAsync(Socket socket, IPEndPoint endpoint, CancellationToken deadline)
    {
        using var timeout = new CancellationTokenSource(settings.ConnectTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, deadline);
        try
        {
            await socket.ConnectAsync(endpoint, linked.Token).ConfigureAwait(false);
            return new GrabAttempt(default, GrabOutcome.Success, null, null);
        }
        catch (OperationCanceledException)
        {
            return new GrabAttempt(default, GrabOutcome.ConnectTimeout, null,
                string.Create(CultureInfo.InvariantCulture, $"no answer to SYN within {settings.ConnectTimeout.TotalSeconds:0.###} s"));
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => new GrabAttempt(default, GrabOutcome.Refused, null, "connection refused"),
                SocketError.TimedOut => new GrabAttempt(default, GrabOutcome.ConnectTimeout, null, "connect timed out"),
                // ICMP unreachable: the host or network said no route; not a timeout and not a refusal.
                SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.HostDown
                    => new GrabAttempt(default, GrabOutcome.Unknown, null, $"unreachable ({e.SocketErrorCode})"),
                // Anything else is on our side (no ports, no buffers, too many files): worth a log line.
                _ => new GrabAttempt(default, GrabOutcome.Unknown, null, $"local socket error {e.SocketErrorCode}: {e.Message}", LocalError: true),
            };
        }
    }

    private ServiceRecord BuildRecord(ScanTarget target, DateTimeOffset observedAt, BannerResult result)
    {
        // The reader's details first, then the crawler's own fields, which always win.
        var record = result.Details?.Clone() ?? new ServiceRecord();
        record.Ip = target.Address.ToString();
        record.Port = (uint)target.Port;
        record.Transport = Transport.Tcp;
        record.Timestamp = Timestamp.FromDateTimeOffset(observedAt);
        record.Data = ByteString.CopyFrom(result.Data.Span);
        record.Source = RecordSource.ActiveScan;
        record.Scanner = settings.Scanner;
        record.ScanId = settings.ScanId;
        record.Outcome = result.Outcome;
        record.Error = result.Error ?? string.Empty;
        if (string.IsNullOrEmpty(record.Module) && result.Module is { } module)
        {
            record.Module = module;
        }

        if (result.Truncated)
        {
            record.Opts["truncated"] = string.Create(CultureInfo.InvariantCulture, $"{result.Data.Length}");
        }

        return record;
    }
}
