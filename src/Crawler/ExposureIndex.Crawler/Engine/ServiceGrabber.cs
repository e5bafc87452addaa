using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Fingerprinting;
using ExposureIndex.Crawler.Targeting;
using ExposureIndex.Grabbers;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Crawler.Engine;

/// <summary>How one ip:port went. <see cref="Record"/> is set only when the port was open (TCP) or answered (UDP).</summary>
internal readonly record struct GrabAttempt(ScanTarget Target, GrabOutcome Outcome, ServiceRecord? Record, string? Error, bool LocalError = false, Transport Transport = Transport.Tcp);

/// <summary>Settings of <see cref="ServiceGrabber"/>, taken from the options once.</summary>
internal sealed record GrabSettings(
    TimeSpan ConnectTimeout,
    TimeSpan TargetDeadline,
    GrabLimits GrabberLimits,
    string Scanner,
    string ScanId);

/// <summary>
/// Grabs one ip:port, all inside the per-target deadline (GUIDE §3.6). TCP: a connect bounded by the connect
/// timeout (refused and timed-out connects produce no record, only an outcome), then the probe engine identifies
/// the service on that connection and more of its own, then the deep grabbers for that service (else for that
/// port) run, and everything is assembled into one record. UDP: the engine's UDP probes; a record only when
/// something answered. Every connection goes through <see cref="IGrabNetwork"/>, bound to this one target.
/// </summary>
internal sealed class ServiceGrabber(GrabSettings settings, ProbeMatcher matcher, ScanSettings scan, IGrabNetwork network, Func<string?, int, Transport, bool, IReadOnlyList<IGrabber>> selectGrabbers, TimeProvider time, ILogger logger)
{
    /// <summary>Never throws for anything the network does; throws OperationCanceledException only when <paramref name="abort"/> fires.</summary>
    public Task<GrabAttempt> GrabAsync(ScanTarget target, Transport transport, CancellationToken abort)
        => transport == Transport.Udp ? GrabUdpAsync(target, abort) : GrabTcpAsync(target, abort);

    private async Task<GrabAttempt> GrabTcpAsync(ScanTarget target, CancellationToken abort)
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

        var connect = await ConnectAsync(socket, endpoint, linked.Token).ConfigureAwait(false);
        if (connect.Outcome != GrabOutcome.Success)
        {
            socket.Dispose();
            abort.ThrowIfCancellationRequested();
            return connect with { Target = target };
        }

        return await IdentifyTcpAsync(target, socket, linked.Token, abort).ConfigureAwait(false);
    }

    /// <summary>
    /// Identifies the service on a connection discovery already made (the port is connected once, not twice);
    /// the per-target deadline starts now. Takes ownership of <paramref name="connected"/>. Never throws for
    /// anything the network does; throws OperationCanceledException only when <paramref name="abort"/> fires.
    /// </summary>
    public async Task<GrabAttempt> GrabConnectedAsync(ScanTarget target, Socket connected, CancellationToken abort)
    {
        ArgumentNullException.ThrowIfNull(connected);
        using var deadline = new CancellationTokenSource(settings.TargetDeadline, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, abort);
        return await IdentifyTcpAsync(target, connected, linked.Token, abort).ConfigureAwait(false);
    }

    private async Task<GrabAttempt> IdentifyTcpAsync(ScanTarget target, Socket socket, CancellationToken deadline, CancellationToken abort)
    {
        var observedAt = time.GetUtcNow();
        var grabTarget = new GrabTarget(target.Address, target.Port, Transport.Tcp);
        var bound = new TargetBoundNetwork(network, grabTarget);
        var scanner = new ServiceScanner(matcher, bound, scan, time);
        // The crawler's own connection carries the NULL probe; disposing it closes the socket.
        var first = SocketGrabNetwork.Wrap(new NetworkStream(socket, ownsSocket: true), scan.Limits, deadline);
        ServiceIdentification identification;
        try
        {
            identification = await scanner.IdentifyTcpAsync(grabTarget, first, deadline).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!abort.IsCancellationRequested)
        {
            identification = new ServiceIdentification { Outcome = GrabOutcome.IoTimeout, Error = "per-target deadline reached" };
        }
        finally
        {
            await first.DisposeAsync().ConfigureAwait(false);
        }

        abort.ThrowIfCancellationRequested();
        var grabs = await RunGrabbersAsync(grabTarget, bound, identification, deadline, abort).ConfigureAwait(false);
        var record = Build(target, Transport.Tcp, observedAt, identification, grabs);
        return new GrabAttempt(target, record.Outcome, record, identification.Error);
    }

    private async Task<GrabAttempt> GrabUdpAsync(ScanTarget target, CancellationToken abort)
    {
        using var deadline = new CancellationTokenSource(settings.TargetDeadline, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, abort);
        var observedAt = time.GetUtcNow();
        var grabTarget = new GrabTarget(target.Address, target.Port, Transport.Udp);
        var bound = new TargetBoundNetwork(network, grabTarget);
        var scanner = new ServiceScanner(matcher, bound, scan, time);
        ServiceIdentification? identification;
        try
        {
            identification = await scanner.IdentifyUdpAsync(grabTarget, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!abort.IsCancellationRequested)
        {
            identification = null;
        }
        catch (Exception e) when (e is SocketException or GrabLimitException)
        {
            return new GrabAttempt(target, GrabOutcome.Unknown, null, e.Message, Transport: Transport.Udp);
        }

        abort.ThrowIfCancellationRequested();
        if (identification is null)
        {
            // No answer: for UDP that proves nothing, so there is no record.
            return new GrabAttempt(target, GrabOutcome.IoTimeout, null, "no answer to any UDP probe", Transport: Transport.Udp);
        }

        var grabs = await RunGrabbersAsync(grabTarget, bound, identification, linked.Token, abort).ConfigureAwait(false);
        var record = Build(target, Transport.Udp, observedAt, identification, grabs);
        return new GrabAttempt(target, record.Outcome, record, identification.Error, Transport: Transport.Udp);
    }

    private async Task<IReadOnlyList<GrabResult>> RunGrabbersAsync(GrabTarget target, IGrabNetwork bound, ServiceIdentification identification, CancellationToken deadline, CancellationToken abort)
    {
        if (identification.Outcome is GrabOutcome.Closed or GrabOutcome.Refused || identification.Service == "tcpwrapped" || deadline.IsCancellationRequested)
        {
            return [];
        }

        var grabbers = selectGrabbers(identification.Service, target.Port, target.Transport, identification.Tls);
        if (grabbers.Count == 0)
        {
            return [];
        }

        var results = new List<GrabResult>(grabbers.Count);
        foreach (var grabber in grabbers)
        {
            if (deadline.IsCancellationRequested)
            {
                break;
            }

            var context = new GrabContext
            {
                Target = target,
                Limits = settings.GrabberLimits,
                Network = bound,
                Time = time,
                InitialBanner = identification.Banner,
                Service = identification.Service,
                Tls = identification.Tls,
            };
            try
            {
                results.Add(await grabber.GrabAsync(context, deadline).ConfigureAwait(false));
            }
            catch (OperationCanceledException) when (!abort.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A grabber bug must not lose the record: log it and keep what the probes found.
                CrawlerLog.GrabberFailed(logger, e, grabber.Name, target.ToString());
            }
        }

        return results;
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

    private ServiceRecord Build(ScanTarget target, Transport transport, DateTimeOffset observedAt, ServiceIdentification identification, IReadOnlyList<GrabResult> grabs)
    {
        // The engine's and grabbers' findings first, then the crawler's own fields, which always win.
        var record = RecordAssembler.Assemble(identification, grabs, target.Port);
        record.Ip = target.Address.ToString();
        record.Port = (uint)target.Port;
        record.Transport = transport;
        record.Timestamp = Timestamp.FromDateTimeOffset(observedAt);
        record.Source = RecordSource.ActiveScan;
        record.Scanner = settings.Scanner;
        record.ScanId = settings.ScanId;
        var outcome = identification.Outcome;
        if (outcome != GrabOutcome.Success && grabs.Any(g => g.Outcome == GrabOutcome.Success))
        {
            outcome = GrabOutcome.Success;
        }

        record.Outcome = outcome;
        record.Error = outcome == GrabOutcome.Success ? string.Empty : identification.Error ?? string.Empty;
        if (identification.Truncated)
        {
            record.Opts["truncated"] = string.Create(CultureInfo.InvariantCulture, $"{record.Data.Length}");
        }

        return record;
    }
}

/// <summary>
/// The network as one grab sees it: connections and datagrams only to the target being grabbed, so no probe
/// and no grabber can reach an address the crawler's policy did not approve.
/// </summary>
internal sealed class TargetBoundNetwork(IGrabNetwork inner, GrabTarget allowed) : IGrabNetwork
{
    public ValueTask<GrabConnection> ConnectAsync(GrabTarget target, GrabLimits limits, CancellationToken deadline)
    {
        Check(target);
        return inner.ConnectAsync(target, limits, deadline);
    }

    public ValueTask<IReadOnlyList<byte[]>> ExchangeUdpAsync(GrabTarget target, ReadOnlyMemory<byte> request, GrabLimits limits, CancellationToken deadline, int maxReplies = 1)
    {
        Check(target);
        return inner.ExchangeUdpAsync(target, request, limits, deadline, maxReplies);
    }

    private void Check(GrabTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (!target.Address.Equals(allowed.Address))
        {
            throw new GrabLimitException(GrabOutcome.Blocklisted, $"{target.Address} is not the target being grabbed ({allowed.Address}); refused");
        }
    }
}
