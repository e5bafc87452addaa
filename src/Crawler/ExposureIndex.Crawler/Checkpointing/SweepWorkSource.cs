using ExposureIndex.Crawler.RateLimiting;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Checkpointing;

/// <summary>
/// One unit of work handed to an engine worker: a shard position, its triple, and a slot of the target's
/// network. Release the network slot when the connection is over (<see cref="ReleaseNetwork"/>); complete the
/// position (<see cref="SweepWorkSource.Complete"/>) only once its record has been handed to the sink, or at
/// once when it produced none, so the checkpoint never passes a record that could still be lost.
/// </summary>
internal sealed class SweepWork(ulong position, ScanTriple target, NetworkConcurrencyLimiter.Lease network)
{
    private NetworkConcurrencyLimiter.Lease _network = network;

    public ulong Position { get; } = position;

    public ScanTriple Target { get; } = target;

    /// <summary>Frees the target's network slot (idempotent).</summary>
    public void ReleaseNetwork() => _network.Dispose();
}

/// <summary>
/// The seam between the sweep and the crawl engine's workers: the shard's seeded order (<see cref="SweepCursor"/>),
/// the global rate limit and the per-network cap in one call. The rate permit is taken before the position, so
/// a stop while waiting abandons nothing; the network slot is taken after it without the stop token, because a
/// taken position is finished even when stopping (that is the drain), and slots free as connects end.
/// </summary>
internal sealed class SweepWorkSource(SweepCursor cursor, TokenBucket? rate, NetworkConcurrencyLimiter? networks)
{
    public SweepCursor Cursor { get; } = cursor ?? throw new ArgumentNullException(nameof(cursor));

    public TokenBucket? Rate { get; } = rate;

    public NetworkConcurrencyLimiter? Networks { get; } = networks;

    /// <summary>The next unit of work, or null when the shard is exhausted or <paramref name="stop"/> is cancelled.</summary>
    public async ValueTask<SweepWork?> TakeAsync(CancellationToken stop)
    {
        if (stop.IsCancellationRequested)
        {
            return null;
        }

        if (Rate is not null)
        {
            try
            {
                await Rate.AcquireAsync(1, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return null;
            }
        }

        if (!Cursor.TryTake(out var position, out var target))
        {
            return null;
        }

        var lease = Networks is null ? default : await Networks.AcquireAsync(target, CancellationToken.None).ConfigureAwait(false);
        return new SweepWork(position, target, lease);
    }

    /// <summary>Marks the work's position done (each exactly once); also frees its network slot if still held.</summary>
    public void Complete(SweepWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        work.ReleaseNetwork();
        Cursor.Complete(work.Position);
    }

    /// <summary>Marks a position done by number (the batcher, after the sink took the record of that position).</summary>
    public void Complete(ulong position) => Cursor.Complete(position);
}
