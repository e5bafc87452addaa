using System.Net;
using System.Net.Sockets;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Checkpointing;
using ExposureIndex.Crawler.RateLimiting;

namespace ExposureIndex.Crawler.Discovery;

/// <summary>Settings of <see cref="ConnectScanner"/>.</summary>
internal sealed record ConnectScanOptions
{
    /// <summary>Connection attempts in flight at once.</summary>
    public int Concurrency { get; init; } = 1024;

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Mark a position done as soon as discovery has an answer, open ports included. False when open ports go
    /// on to identification and that stage completes them once their record is written.
    /// </summary>
    public bool CompleteOpenPositions { get; init; } = true;

    /// <summary>Use the epoll engine (<see cref="EpollConnectScanner"/>) where it runs (Linux); the portable managed scanner otherwise.</summary>
    public bool UseEpoll { get; init; } = true;

    /// <summary>
    /// Hand each open connection to the receiver (<see cref="DiscoveryResult.Handoff"/>, with its budget and network
    /// slots) instead of closing it, so identification runs on the connection discovery made; UDP triples are
    /// handed over with a budget slot. Off: open connections are reset at once (pure discovery).
    /// </summary>
    public bool HandOff { get; init; }
}

/// <summary>
/// The default discovery, open to any user: a full TCP connect per target at high concurrency, behind the
/// global rate limit and the per-network cap. Open connections are closed at once with an RST (SO_LINGER 0),
/// which frees the target's resources immediately and leaves no TIME_WAIT behind on our side to exhaust
/// ephemeral ports. Triples it cannot probe (UDP) are reported <see cref="PortState.Unsupported"/>.
/// With a <see cref="ConnectionBudget"/>, every connect takes one of its slots first (see <see cref="ConnectScanOptions.HandOff"/>).
/// </summary>
internal sealed class ConnectScanner(ConnectScanOptions options, TokenBucket? rate, NetworkConcurrencyLimiter? networks, TimeProvider time, ConnectionBudget? budget = null)
{
    public DiscoveryCounters Counters { get; } = new();

    /// <summary>
    /// Scans what <paramref name="cursor"/> hands out until it is exhausted or <paramref name="stop"/> is
    /// cancelled (then attempts in flight finish: the drain). Each answer goes to <paramref name="onResult"/>.
    /// </summary>
    public async Task RunAsync(SweepCursor cursor, Func<DiscoveryResult, ValueTask> onResult, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        ArgumentNullException.ThrowIfNull(onResult);
        var workers = (int)Math.Min((ulong)Math.Max(1, options.Concurrency), Math.Max(1, cursor.Count - cursor.Start));
        var tasks = new Task[workers];
        for (var i = 0; i < workers; i++)
        {
            tasks[i] = Task.Run(() => WorkAsync(cursor, onResult, stop), CancellationToken.None);
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    private async Task WorkAsync(SweepCursor cursor, Func<DiscoveryResult, ValueTask> onResult, CancellationToken stop)
    {
        var timeout = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        try
        {
            // Bounded: the cursor is finite and hands each position out once.
            while (!stop.IsCancellationRequested)
            {
                // The budget slot and the permit come before the position: a stop while waiting abandons nothing taken.
                if (budget is not null)
                {
                    try
                    {
                        await budget.AcquireAsync(stop).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested)
                    {
                        return;
                    }
                }

                var slot = budget;
                try
                {
                    if (rate is not null)
                    {
                        try
                        {
                            await rate.AcquireAsync(1, stop).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException) when (stop.IsCancellationRequested)
                        {
                            return;
                        }
                    }

                    if (!cursor.TryTake(out var position, out var target))
                    {
                        return;
                    }

                    if (target.Transport != Transport.Tcp)
                    {
                        var udp = options.HandOff ? Handoff.ForSlot(slot) : null;
                        slot = null;
                        await Report(new DiscoveryResult(position, target, PortState.Unsupported, "connect discovery probes TCP only", udp)).ConfigureAwait(false);
                        continue;
                    }

                    // Taken work is finished even when stopping (the drain); the wait ends as connects in flight end.
                    NetworkConcurrencyLimiter.Lease lease = default;
                    if (networks is not null)
                    {
                        lease = await networks.AcquireAsync(target, CancellationToken.None).ConfigureAwait(false);
                    }

                    Counters.Attempt();
                    var (result, socket) = await ConnectAsync(position, target, timeout).ConfigureAwait(false);
                    if (socket is not null && options.HandOff)
                    {
                        // The connection, its network slot and its budget slot go on to identification together.
                        result = result with { Handoff = Handoff.ForSocket(socket, lease, networks is not null, slot) };
                        slot = null;
                    }
                    else
                    {
                        if (socket is not null)
                        {
                            // Abortive close: RST instead of FIN, no TIME_WAIT (RFC 9293 §3.10.7.1 "abort").
                            socket.LingerState = new LingerOption(true, 0);
                            socket.Dispose();
                        }

                        lease.Dispose();
                    }

                    if (!timeout.TryReset())
                    {
                        timeout.Dispose();
                        timeout = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
                    }

                    await Report(result).ConfigureAwait(false);
                }
                finally
                {
                    slot?.Release();
                }
            }
        }
        finally
        {
            timeout.Dispose();
        }

        async ValueTask Report(DiscoveryResult result)
        {
            Counters.Count(result.State);
            await onResult(result).ConfigureAwait(false);
            if (result.State != PortState.Open || options.CompleteOpenPositions)
            {
                cursor.Complete(result.Position);
            }
        }
    }

    private async ValueTask<(DiscoveryResult Result, Socket? Open)> ConnectAsync(ulong position, Targeting.ScanTriple target, CancellationTokenSource timeout)
    {
        var address = target.Address;
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address, target.Port), timeout.Token).ConfigureAwait(false);
            return (new DiscoveryResult(position, target, PortState.Open), socket);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            socket.Dispose();
            return (new DiscoveryResult(position, target, PortState.Filtered, "connect timeout"), null);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            return (new DiscoveryResult(position, target, Classify(e.SocketErrorCode), e.SocketErrorCode.ToString()), null);
        }
    }

    internal static PortState Classify(SocketError error) => error switch
    {
        SocketError.ConnectionRefused or SocketError.ConnectionReset => PortState.Closed,
        SocketError.TimedOut => PortState.Filtered,
        SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.HostDown or SocketError.NetworkDown => PortState.Unreachable,
        _ => PortState.LocalError,
    };
}
