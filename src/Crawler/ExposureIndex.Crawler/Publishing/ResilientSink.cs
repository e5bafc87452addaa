using System.Globalization;
using ExposureIndex.Contracts.V1;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace ExposureIndex.Crawler.Publishing;

/// <summary>Settings of <see cref="ResilientSink"/>; defaults suit a real Indexer, tests shrink the delays.</summary>
public sealed record ResilientSinkOptions
{
    /// <summary>Directory of the disk spool (created if needed); what is left in it is replayed first.</summary>
    public required string SpoolDirectory { get; init; }

    /// <summary>Batches kept in memory waiting for delivery; beyond this (after <see cref="BackpressureWait"/>) they are spooled.</summary>
    public int MaxMemoryBatches { get; init; } = 64;

    /// <summary>How long a write waits for room in memory before spooling instead (a slow but healthy Indexer).</summary>
    public TimeSpan BackpressureWait { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Batches per delivery (one Publish stream each).</summary>
    public int BatchesPerDelivery { get; init; } = 32;

    /// <summary>First retry delay; later ones grow exponentially with jitter up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The breaker opens when this share of deliveries fail within <see cref="BreakerSamplingDuration"/>.</summary>
    public double BreakerFailureRatio { get; init; } = 0.5;

    public int BreakerMinimumThroughput { get; init; } = 4;

    public TimeSpan BreakerSamplingDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the breaker stays open (everything goes straight to the spool) before a trial delivery.</summary>
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Longest one delivery may take (connect, send, every ack) before it counts as failed.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Spool size at which writes wait for the Indexer instead of growing it further.</summary>
    public long MaxSpoolBytes { get; init; } = 16L * 1024 * 1024 * 1024;

    /// <summary>Segment file size of the spool.</summary>
    public long SpoolSegmentBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Remove the spool directory on dispose when nothing is left in it (a temporary spool of one run).</summary>
    public bool DeleteDirectoryWhenEmpty { get; init; }
}

/// <summary>
/// Completion found records that the Indexer has not acknowledged; they are safe in the spool and are replayed
/// by the next run that uses the same spool directory. The crawl must not exit 0.
/// </summary>
public sealed class SpoolNotDrainedException : Exception
{
    public SpoolNotDrainedException()
    {
    }

    public SpoolNotDrainedException(string message)
        : base(message)
    {
    }

    public SpoolNotDrainedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public long PendingRecords { get; init; }

    public string? SpoolDirectory { get; init; }
}

/// <summary>
/// Delivery without loss: wraps a sink factory (normally <see cref="IndexerSink.Open"/>) with retries,
/// exponential backoff with jitter and a circuit breaker (Polly 8), and a <see cref="DiskSpool"/>.
/// While the Indexer answers, batches wait in memory and are delivered in order, <see cref="ResilientSinkOptions.BatchesPerDelivery"/>
/// per Publish stream; the first failed delivery moves everything not yet acknowledged to the spool (fsynced),
/// later writes go to the spool too, and the spool is replayed in order once the Indexer is back. A record
/// therefore always is in memory (and the crawl's checkpoint has not passed it), in the spool, or acknowledged.
/// Replays may resend records the Indexer already stored (an ack lost with the connection); the Indexer is
/// idempotent by record identity and reports them as duplicates.
/// </summary>
/// <remarks>
/// <see cref="FlushAsync"/> is the checkpoint's durability barrier: it returns once every record written so far is
/// acknowledged or spooled. <see cref="CompleteAsync"/> returns only when every record is acknowledged (the crawl
/// may exit 0); when its token ends first, it spools the rest and throws <see cref="SpoolNotDrainedException"/>.
/// </remarks>
public sealed partial class ResilientSink : IRecordSink
{
    private readonly Func<CancellationToken, ValueTask<IRecordSink>> _connect;
    private readonly ResilientSinkOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly DiskSpool _spool;
    private readonly ResiliencePipeline _pipeline;
    private readonly CircuitBreakerStateProvider _breaker = new();
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly Lock _sync = new();
    private readonly Queue<IReadOnlyList<ServiceRecord>> _memory = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<RecordRejection> _rejections = [];
    private readonly Task _deliverer;
    private Delivery? _inFlight;
    private TaskCompletionSource _work = NewSignal();
    private TaskCompletionSource _progress = NewSignal();
    private Exception? _failure;
    private long _written;
    private long _acknowledged;
    private long _rejected;
    private long _duplicates;
    private long _deliveries;
    private long _failedDeliveries;
    private long _spooledBatches;
    private bool _completing;
    private bool _disposed;

    /// <param name="connect">Opens a fresh inner sink (one Publish stream) for each delivery.</param>
    /// <param name="options">Spool directory and resilience settings.</param>
    /// <param name="timeProvider">Clock for backoff, breaker and timeouts; the system clock when null.</param>
    /// <param name="logger">Where delivery failures, spooling and replays are logged.</param>
    public ResilientSink(Func<CancellationToken, ValueTask<IRecordSink>> connect, ResilientSinkOptions options, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(connect);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxMemoryBatches, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchesPerDelivery, 1);
        _connect = connect;
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _spool = DiskSpool.Open(options.SpoolDirectory, options.SpoolSegmentBytes);
        if (_spool.TruncatedBytes > 0)
        {
            SpoolTailTruncated(_logger, _spool.Directory, _spool.TruncatedBytes);
        }

        if (_spool.HasPending)
        {
            SpoolRecovered(_logger, _spool.Directory, _spool.PendingBatches, _spool.PendingRecords);
        }

        _pipeline = BuildPipeline();
        Name = $"resilient({options.SpoolDirectory})";
        _deliverer = Task.Run(DeliverLoopAsync);
    }

    /// <summary>The Indexer behind retries, breaker and spool: one <see cref="IndexerSink"/> Publish stream per delivery.</summary>
    public static ResilientSink ForIndexer(IndexerSinkOptions indexer, ResilientSinkOptions options, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(indexer);
        return new ResilientSink(_ => ValueTask.FromResult<IRecordSink>(IndexerSink.Open(indexer)), options, timeProvider, logger)
        {
            Name = $"indexer:{indexer.Address} (spool {Path.GetFullPath(options.SpoolDirectory)})",
        };
    }

    public string Name { get; init; }

    public SinkCounts Counts => new(Interlocked.Read(ref _written), Interlocked.Read(ref _acknowledged), Interlocked.Read(ref _rejected));

    /// <summary>Records in the spool now, waiting for the Indexer.</summary>
    public long SpooledRecords => _spool.PendingRecords;

    /// <summary>Batches ever moved to the spool in this run.</summary>
    public long SpooledBatches => Interlocked.Read(ref _spooledBatches);

    /// <summary>Acknowledged records the Indexer already held (resends after a lost ack).</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long Deliveries => Interlocked.Read(ref _deliveries);

    public long FailedDeliveries => Interlocked.Read(ref _failedDeliveries);

    public CircuitState BreakerState => _breaker.CircuitState;

    public string SpoolDirectory => _spool.Directory;

    public async ValueTask WriteAsync(IReadOnlyList<ServiceRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return;
        }

        // The caller may reuse its list; the records themselves are not changed (IRecordSink contract).
        IReadOnlyList<ServiceRecord> batch = [.. records];
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfUnusable();
            var deadline = _time.GetTimestamp();
            // Bounded: waits at most BackpressureWait for memory, or for the spool to shrink below its cap.
            while (true)
            {
                Task progress;
                lock (_sync)
                {
                    ThrowIfUnusable();
                    var troubled = _spool.HasPending || _breaker.CircuitState is CircuitState.Open or CircuitState.Isolated;
                    if (!troubled && _memory.Count < _options.MaxMemoryBatches)
                    {
                        _memory.Enqueue(batch);
                        break;
                    }

                    var waitedLongEnough = _time.GetElapsedTime(deadline) >= _options.BackpressureWait;
                    if ((troubled || waitedLongEnough) && _spool.PendingBytes < _options.MaxSpoolBytes)
                    {
                        SpillLocked();
                        SpoolLocked(batch);
                        break;
                    }

                    progress = _progress.Task;
                }

                await WaitAsync(progress, _options.BackpressureWait, cancellationToken).ConfigureAwait(false);
            }

            Interlocked.Add(ref _written, batch.Count);
            Signal();
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>The durability barrier: returns once every record written so far is acknowledged or spooled.</summary>
    public async ValueTask<SinkCounts> FlushAsync(CancellationToken cancellationToken = default)
    {
        // Bounded: each delivery in memory either succeeds or fails within AttemptTimeout, and a failure spools it.
        while (true)
        {
            Task progress;
            lock (_sync)
            {
                ThrowIfFailed();
                if (_memory.Count == 0 && _inFlight is not { Spooled: false })
                {
                    return Counts;
                }

                progress = _progress.Task;
            }

            await progress.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<SinkResult> CompleteAsync(CancellationToken cancellationToken = default)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            lock (_sync)
            {
                _completing = true;
            }

            Signal();
            try
            {
                // Bounded by the caller's token; the deliverer retries with backoff meanwhile.
                while (true)
                {
                    Task progress;
                    lock (_sync)
                    {
                        ThrowIfFailed();
                        if (_memory.Count == 0 && _inFlight is null && !_spool.HasPending)
                        {
                            return new SinkResult(Counts, [.. _rejections], Duplicates);
                        }

                        progress = _progress.Task;
                    }

                    await progress.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                lock (_sync)
                {
                    SpillLocked();
                }

                throw new SpoolNotDrainedException(string.Create(CultureInfo.InvariantCulture,
                    $"{_spool.PendingRecords} records are not yet acknowledged by the Indexer; they are safe in the spool {_spool.Directory} and are replayed by the next run that uses it"))
                {
                    PendingRecords = _spool.PendingRecords,
                    SpoolDirectory = _spool.Directory,
                };
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _deliverer.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A delivery that ignores cancellation; the spool below still keeps every record.
        }

        lock (_sync)
        {
            try
            {
                // Nothing is abandoned: what memory still holds goes to disk for the next run.
                SpillLocked();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                SpoolFailed(_logger, e, _spool.Directory);
            }

            var empty = !_spool.HasPending;
            _spool.Dispose();
            if (empty && _options.DeleteDirectoryWhenEmpty)
            {
                try
                {
                    Directory.Delete(_spool.Directory, recursive: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // An empty spool left behind is harmless.
                }
            }
        }

        _stop.Dispose();
        _writeGate.Dispose();
    }

    /// <summary>
    /// Waits until every record written so far is acknowledged (the spool drained too) without ending the sink, for a
    /// long-running writer between sweeps; false when <paramref name="cancellationToken"/> ends first (delivery goes on).
    /// </summary>
    public async ValueTask<bool> WaitDeliveredAsync(CancellationToken cancellationToken)
    {
        // Bounded by the caller's token; the deliverer retries with backoff meanwhile.
        while (true)
        {
            Task progress;
            lock (_sync)
            {
                ThrowIfFailed();
                if (_memory.Count == 0 && _inFlight is null && !_spool.HasPending)
                {
                    return true;
                }

                progress = _progress.Task;
            }

            try
            {
                await progress.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }
    }

    private ResiliencePipeline BuildPipeline()
    {
        static bool Transient(Exception? e, CancellationToken token)
            => e is not null && !(e is OperationCanceledException && token.IsCancellationRequested);

        return new ResiliencePipelineBuilder { TimeProvider = _time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(Transient(args.Outcome.Exception, args.Context.CancellationToken)),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                MaxRetryAttempts = int.MaxValue,
                Delay = _options.RetryBaseDelay,
                MaxDelay = _options.RetryMaxDelay,
                OnRetry = args =>
                {
                    Interlocked.Increment(ref _failedDeliveries);
                    lock (_sync)
                    {
                        // First failure of a delivery from memory: make it (and all newer batches) durable now.
                        if (_inFlight is { Spooled: false })
                        {
                            SpillLocked();
                        }
                    }

                    if (args.Outcome.Exception is not BrokenCircuitException)
                    {
                        DeliveryFailed(_logger, args.AttemptNumber + 1, args.RetryDelay, _spool.PendingRecords, args.Outcome.Exception?.Message ?? "failed");
                    }

                    return ValueTask.CompletedTask;
                },
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(Transient(args.Outcome.Exception, args.Context.CancellationToken)),
                FailureRatio = _options.BreakerFailureRatio,
                MinimumThroughput = _options.BreakerMinimumThroughput,
                SamplingDuration = _options.BreakerSamplingDuration,
                BreakDuration = _options.BreakDuration,
                StateProvider = _breaker,
                OnOpened = args =>
                {
                    BreakerOpened(_logger, args.BreakDuration);
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    BreakerClosed(_logger);
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(_options.AttemptTimeout)
            .Build();
    }

    private async Task DeliverLoopAsync()
    {
        var stop = _stop.Token;
        try
        {
            // Bounded: ends when the sink is disposed; idles on a signal between deliveries.
            while (!stop.IsCancellationRequested)
            {
                Delivery? delivery;
                Task work;
                lock (_sync)
                {
                    delivery = NextDeliveryLocked();
                    work = _work.Task;
                }

                if (delivery is null)
                {
                    await work.WaitAsync(stop).ConfigureAwait(false);
                    continue;
                }

                var result = await _pipeline.ExecuteAsync(static (state, token) => state.Self.DeliverAsync(state.Delivery, token),
                    (Self: this, Delivery: delivery), stop).ConfigureAwait(false);
                Delivered(delivery, result);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // The spool itself failed (disk full, corruption): nothing more can be made durable.
            SpoolFailed(_logger, e, _spool.Directory);
            lock (_sync)
            {
                _failure ??= e;
            }

            Progressed();
        }
    }

    private Delivery? NextDeliveryLocked()
    {
        if (_inFlight is not null)
        {
            return _inFlight;
        }

        if (_spool.HasPending)
        {
            var batches = _spool.ReadPending(_options.BatchesPerDelivery);
            _inFlight = new Delivery([.. batches.Select(b => b.Records)], batches[^1].End) { Spooled = true };
            ReplayStarting(_logger, batches.Count, batches.Sum(b => b.Records.Count), _spool.PendingRecords);
            return _inFlight;
        }

        if (_memory.Count == 0)
        {
            return null;
        }

        var fromMemory = new List<IReadOnlyList<ServiceRecord>>();
        while (fromMemory.Count < _options.BatchesPerDelivery && _memory.TryDequeue(out var batch))
        {
            fromMemory.Add(batch);
        }

        _inFlight = new Delivery(fromMemory, null);
        Progressed();
        return _inFlight;
    }

    private async ValueTask<SinkResult> DeliverAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _deliveries);
        var inner = await _connect(cancellationToken).ConfigureAwait(false);
        await using (inner.ConfigureAwait(false))
        {
            foreach (var batch in delivery.Batches)
            {
                await inner.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
            }

            var result = await inner.CompleteAsync(cancellationToken).ConfigureAwait(false);
            var expected = delivery.Batches.Sum(b => (long)b.Count);
            if (result.Counts.Acknowledged + result.Counts.Rejected != expected)
            {
                throw new IndexerSinkException(string.Create(CultureInfo.InvariantCulture,
                    $"{inner.Name} accounted for {result.Counts.Acknowledged} + {result.Counts.Rejected} of {expected} records"));
            }

            return result;
        }
    }

    private void Delivered(Delivery delivery, SinkResult result)
    {
        lock (_sync)
        {
            if (delivery.Spooled)
            {
                _spool.Acknowledge(delivery.SpoolEnd!.Value);
            }

            _inFlight = null;
            Interlocked.Add(ref _acknowledged, result.Counts.Acknowledged);
            Interlocked.Add(ref _rejected, result.Counts.Rejected);
            Interlocked.Add(ref _duplicates, result.Duplicates);
            foreach (var rejection in result.Rejections)
            {
                if (_rejections.Count >= SinkResult.MaxListedRejections)
                {
                    break;
                }

                _rejections.Add(rejection);
            }

            if (delivery.Spooled && !_spool.HasPending)
            {
                SpoolDrained(_logger, _spool.Directory);
            }
        }

        Progressed();
    }

    /// <summary>Moves the in-flight delivery (if from memory) and then all of memory to the spool, oldest first.</summary>
    private void SpillLocked()
    {
        var moved = 0;
        if (_inFlight is { Spooled: false } inFlight)
        {
            SpoolPosition? end = null;
            foreach (var batch in inFlight.Batches)
            {
                end = _spool.Append(batch);
                moved++;
            }

            inFlight.SpoolEnd = end;
            inFlight.Spooled = true;
        }

        while (_memory.TryDequeue(out var batch))
        {
            _spool.Append(batch);
            moved++;
        }

        if (moved > 0)
        {
            Interlocked.Add(ref _spooledBatches, moved);
            Spooled(_logger, moved, _spool.PendingRecords, _spool.Directory);
            Progressed();
        }
    }

    private void SpoolLocked(IReadOnlyList<ServiceRecord> batch)
    {
        _spool.Append(batch);
        Interlocked.Increment(ref _spooledBatches);
    }

    private void Signal()
    {
        TaskCompletionSource work;
        lock (_sync)
        {
            work = _work;
            _work = NewSignal();
        }

        work.TrySetResult();
    }

    private void Progressed()
    {
        TaskCompletionSource progress;
        lock (_sync)
        {
            progress = _progress;
            _progress = NewSignal();
        }

        progress.TrySetResult();
    }

    private async Task WaitAsync(Task signal, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await signal.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Re-check: the backpressure wait may be over.
        }
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completing)
        {
            throw new InvalidOperationException($"{Name} is complete; no more records can be written");
        }

        ThrowIfFailed();
    }

    private void ThrowIfFailed()
    {
        if (_failure is not null)
        {
            throw new IOException($"{Name}: the spool failed, records can no longer be made durable: {_failure.Message}", _failure);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class Delivery(IReadOnlyList<IReadOnlyList<ServiceRecord>> batches, SpoolPosition? spoolEnd)
    {
        public IReadOnlyList<IReadOnlyList<ServiceRecord>> Batches { get; } = batches;

        /// <summary>Where its last batch ends in the spool, once it is there.</summary>
        public SpoolPosition? SpoolEnd { get; set; } = spoolEnd;

        public bool Spooled { get; set; }
    }

    [LoggerMessage(EventId = 2420, Level = LogLevel.Warning, Message = "Delivery to the Indexer failed (attempt {Attempt}), retrying in {Delay}; {Spooled} records spooled: {Error}")]
    private static partial void DeliveryFailed(ILogger logger, int attempt, TimeSpan delay, long spooled, string error);

    [LoggerMessage(EventId = 2421, Level = LogLevel.Information, Message = "Spooled {Batches} batches to disk ({Records} records pending in {Directory})")]
    private static partial void Spooled(ILogger logger, int batches, long records, string directory);

    [LoggerMessage(EventId = 2422, Level = LogLevel.Information, Message = "Replaying {Batches} spooled batches ({Records} records; {Pending} pending in all)")]
    private static partial void ReplayStarting(ILogger logger, int batches, int records, long pending);

    [LoggerMessage(EventId = 2423, Level = LogLevel.Information, Message = "Spool {Directory} drained: every spooled record is acknowledged")]
    private static partial void SpoolDrained(ILogger logger, string directory);

    [LoggerMessage(EventId = 2424, Level = LogLevel.Warning, Message = "Circuit to the Indexer opened for {Duration}: new batches go straight to the spool")]
    private static partial void BreakerOpened(ILogger logger, TimeSpan duration);

    [LoggerMessage(EventId = 2425, Level = LogLevel.Information, Message = "Circuit to the Indexer closed: delivering again")]
    private static partial void BreakerClosed(ILogger logger);

    [LoggerMessage(EventId = 2426, Level = LogLevel.Information, Message = "Spool {Directory} holds {Batches} batches ({Records} records) from an earlier run; replaying them first")]
    private static partial void SpoolRecovered(ILogger logger, string directory, int batches, long records);

    [LoggerMessage(EventId = 2427, Level = LogLevel.Warning, Message = "Spool {Directory}: cut {Bytes} bytes of an unfinished append off the last segment")]
    private static partial void SpoolTailTruncated(ILogger logger, string directory, long bytes);

    [LoggerMessage(EventId = 2428, Level = LogLevel.Critical, Message = "Spool {Directory} failed; records can no longer be made durable")]
    private static partial void SpoolFailed(ILogger logger, Exception exception, string directory);
}
