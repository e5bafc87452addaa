using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Checkpointing;

/// <summary>
/// Writes a shard's checkpoint every <c>interval</c> and once more at the end. Each save takes the cursor's
/// low-water mark first, then waits for the durability barrier (the sink's flush: every record handed over so
/// far is acknowledged or spooled), then writes the file: so a saved position never runs ahead of the records.
/// </summary>
internal sealed class CheckpointWriter
{
    private readonly CheckpointStore _store;
    private readonly SweepPlan _plan;
    private readonly SweepCursor _cursor;
    private readonly Func<CancellationToken, ValueTask> _durabilityBarrier;
    private readonly Func<(long Open, long Records)> _counts;
    private readonly SweepCheckpoint? _resumedFrom;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _saves;

    public CheckpointWriter(CheckpointStore store, SweepPlan plan, SweepCursor cursor, Func<CancellationToken, ValueTask> durabilityBarrier,
        Func<(long Open, long Records)> counts, TimeProvider time, SweepCheckpoint? resumedFrom = null, string? scanId = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(cursor);
        ArgumentNullException.ThrowIfNull(durabilityBarrier);
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(time);
        _store = store;
        _plan = plan;
        _cursor = cursor;
        _durabilityBarrier = durabilityBarrier;
        _counts = counts;
        _time = time;
        _resumedFrom = resumedFrom;
        ScanId = scanId ?? resumedFrom?.ScanId;
    }

    public string? ScanId { get; }

    public long Saves => Interlocked.Read(ref _saves);

    public SweepCheckpoint? Last { get; private set; }

    /// <summary>Saves every <paramref name="interval"/> until <paramref name="stop"/>; a failed save is reported, not fatal.</summary>
    public async Task RunAsync(TimeSpan interval, Action<Exception>? onError, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval, _time);
        try
        {
            // Bounded: ends when the sweep stops.
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                try
                {
                    await SaveAsync(stop).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    onError?.Invoke(e);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Takes the low-water mark, waits for the barrier, and writes the checkpoint; returns what was written.</summary>
    public async Task<SweepCheckpoint> SaveAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var position = _cursor.LowWater;
            var (open, records) = _counts();
            await _durabilityBarrier(cancellationToken).ConfigureAwait(false);
            var checkpoint = SweepCheckpoint.For(_plan, position, _time.GetUtcNow(),
                (_resumedFrom?.Open ?? 0) + open, (_resumedFrom?.Records ?? 0) + records, ScanId);
            _store.Save(checkpoint);
            Last = checkpoint;
            Interlocked.Increment(ref _saves);
            return checkpoint;
        }
        finally
        {
            _gate.Release();
        }
    }
}
