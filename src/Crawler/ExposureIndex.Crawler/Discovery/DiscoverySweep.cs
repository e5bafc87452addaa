using ExposureIndex.Crawler.Checkpointing;
using ExposureIndex.Crawler.RateLimiting;
using ExposureIndex.Crawler.Service;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Discovery;

/// <summary>Raw sockets are not available; the message says why and what to do instead.</summary>
public sealed class SynUnavailableException : Exception
{
    public SynUnavailableException()
    {
    }

    public SynUnavailableException(string message)
        : base(message)
    {
    }

    public SynUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Settings of <see cref="DiscoverySweep"/>.</summary>
internal sealed record DiscoverySweepOptions
{
    /// <summary>Stateless SYN discovery instead of the connect scan.</summary>
    public bool Syn { get; init; }

    /// <summary>Attempts (or packets) per second; unlimited when null.</summary>
    public double? Rate { get; init; }

    /// <summary>Connections in flight to one /24 or /64 (connect scan only); no cap when 0.</summary>
    public int MaxPerNetwork { get; init; }

    public ConnectScanOptions Connect { get; init; } = new();

    public SynScanOptions SynOptions { get; init; } = new();

    /// <summary>Checkpoint file; none when null.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Continue from the checkpoint (refused when it belongs to another plan).</summary>
    public bool Resume { get; init; }

    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Port discovery over a whole plan: the shard's seeded order, the rate limit and per-network cap, connect or
/// SYN probing, periodic checkpoints and resume. What discovery finds goes to a callback (identification, or a
/// list of open ports); positions are checkpointed only once the callback has returned for them and the
/// durability barrier has passed. Cancelling the stop token drains: no new positions, probes in flight finish,
/// the final checkpoint is written at the low-water mark.
/// </summary>
internal sealed class DiscoverySweep
{
    private readonly SweepPlan _plan;
    private readonly DiscoverySweepOptions _options;
    private readonly TimeProvider _time;
    private SweepCursor? _cursor;
    private DiscoveryCounters? _counters;
    private long _started;
    private SweepCheckpoint? _resumed;

    public DiscoverySweep(SweepPlan plan, DiscoverySweepOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _plan = plan;
        _options = options;
        _time = time;
    }

    public SweepCursor? Cursor => _cursor;

    /// <summary>Probes per second of the SYN send path alone (CPU time in building and sending), when SYN ran.</summary>
    public double? SynSendRate { get; private set; }

    /// <summary>Runs the sweep; returns the final snapshot. <paramref name="durabilityBarrier"/> runs before each checkpoint.</summary>
    public async Task<SweepSnapshot> RunAsync(Action<DiscoveryResult> onResult, CancellationToken stop,
        Func<CancellationToken, ValueTask>? durabilityBarrier = null, Action<Exception>? onCheckpointError = null)
    {
        ArgumentNullException.ThrowIfNull(onResult);
        var store = _options.CheckpointPath is { } path ? new CheckpointStore(path) : null;
        ulong start = 0;
        if (store is not null && _options.Resume)
        {
            start = store.ResumePosition(_plan, out _resumed);
        }

        _cursor = new SweepCursor(_plan.Order, start);
        _started = _time.GetTimestamp();
        var rate = _options.Rate is { } perSecond ? TokenBucket.PerSecond(perSecond, _time) : null;
        var writer = store is null
            ? null
            : new CheckpointWriter(store, _plan, _cursor, durabilityBarrier ?? (_ => ValueTask.CompletedTask),
                () => (_counters?.Open ?? 0, 0), _time, _resumed);
        using var checkpointStop = new CancellationTokenSource();
        var checkpoints = writer?.RunAsync(_options.CheckpointInterval, onCheckpointError, checkpointStop.Token) ?? Task.CompletedTask;
        try
        {
            if (_options.Syn)
            {
                if (!SynScanner.TryCreate(_options.SynOptions, _time, out var syn, out var error))
                {
                    throw new SynUnavailableException(error);
                }

                using (syn)
                {
                    _counters = syn!.Counters;
                    await syn.RunAsync(_cursor, rate, r => onResult(r), stop).ConfigureAwait(false);
                    SynSendRate = syn.SendTime > TimeSpan.Zero ? syn.Sent / syn.SendTime.TotalSeconds : null;
                }
            }
            else
            {
                var networks = _options.MaxPerNetwork > 0 ? new NetworkConcurrencyLimiter(_options.MaxPerNetwork) : null;
                if (_options.Connect.UseEpoll && EpollConnectScanner.IsSupported)
                {
                    var scanner = new EpollConnectScanner(_options.Connect, rate, networks, _time);
                    _counters = scanner.Counters;
                    await scanner.RunAsync(_cursor, onResult, stop).ConfigureAwait(false);
                }
                else
                {
                    var scanner = new ConnectScanner(_options.Connect, rate, networks, _time);
                    _counters = scanner.Counters;
                    await scanner.RunAsync(_cursor, r =>
                    {
                        onResult(r);
                        return ValueTask.CompletedTask;
                    }, stop).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            await checkpointStop.CancelAsync().ConfigureAwait(false);
            await checkpoints.ConfigureAwait(false);
        }

        if (writer is not null)
        {
            // The drain is over: this save covers everything that finished.
            await writer.SaveAsync(CancellationToken.None).ConfigureAwait(false);
        }

        return Snapshot(stop.IsCancellationRequested);
    }

    public SweepSnapshot Snapshot(bool cancelled = false)
    {
        var counters = _counters ?? new DiscoveryCounters();
        return new SweepSnapshot
        {
            Mode = _options.Syn ? "syn" : "connect",
            Shard = _plan.Shard.ToString(),
            Planned = _plan.Order.Count,
            Done = _cursor?.LowWater ?? 0,
            ResumedFrom = _cursor?.Start ?? 0,
            Attempted = counters.Attempted,
            Open = counters.Open + (_resumed?.Open ?? 0),
            Closed = counters.Closed,
            Filtered = _options.Syn ? Math.Max(0, counters.Attempted - counters.Open - counters.Closed - counters.LocalErrors) : counters.Filtered,
            Elapsed = _cursor is null ? TimeSpan.Zero : _time.GetElapsedTime(_started),
            RateLimit = _options.Rate,
            Cancelled = cancelled,
        };
    }
}
