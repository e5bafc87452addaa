using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Checkpointing;

/// <summary>
/// Hands out one shard's positions in order to any number of workers (thread-safe) and tracks which are
/// finished, so that <see cref="LowWater"/> is a safe resume point: every position below it is done, whatever
/// order the workers finished in. A resumed sweep starts at the low-water mark, so at most the positions that
/// were in flight (finished above the mark, or unfinished) are visited twice: the in-flight window.
/// </summary>
/// <remarks>"Done" must mean what the checkpoint promises: for a crawl, the position's record has been handed
/// to the sink (or it produced none), and the checkpoint is written only after the sink's flush barrier.</remarks>
internal sealed class SweepCursor
{
    private readonly SweepOrder _order;
    private readonly HashSet<ulong> _doneAboveMark = [];
    private readonly Lock _sync = new();
    private long _next; // next local position to hand out, as long for Interlocked (positions < 2^63 in practice)
    private ulong _lowWater;
    private long _completed;
    private int _maxOutstanding;

    public SweepCursor(SweepOrder order, ulong start = 0)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start, order.Count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(order.Count, (ulong)long.MaxValue);
        _order = order;
        Start = start;
        _next = (long)start;
        _lowWater = start;
    }

    public SweepOrder Order => _order;

    /// <summary>Where this run began (0, or the resumed checkpoint position).</summary>
    public ulong Start { get; }

    /// <summary>Positions in the shard.</summary>
    public ulong Count => _order.Count;

    /// <summary>Positions handed out so far in this run, plus <see cref="Start"/>.</summary>
    public ulong Taken => Math.Min((ulong)Interlocked.Read(ref _next), _order.Count);

    /// <summary>Positions completed in this run.</summary>
    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Every position below this is done.</summary>
    public ulong LowWater
    {
        get
        {
            lock (_sync)
            {
                return _lowWater;
            }
        }
    }

    /// <summary>The most positions that were ever taken but not done at once (the in-flight window).</summary>
    public int MaxOutstanding => Volatile.Read(ref _maxOutstanding);

    public bool IsFinished => LowWater == _order.Count;

    /// <summary>Takes the next position and its triple; false when the shard is exhausted.</summary>
    public bool TryTake(out ulong position, out ScanTriple triple)
    {
        var next = Interlocked.Increment(ref _next) - 1;
        if ((ulong)next >= _order.Count)
        {
            // Undo, so idle workers asking again and again cannot creep the counter towards overflow.
            Interlocked.Decrement(ref _next);
            position = 0;
            triple = default;
            return false;
        }

        position = (ulong)next;
        triple = _order[position];
        return true;
    }

    /// <summary>Marks <paramref name="position"/> done (each taken position exactly once).</summary>
    public void Complete(ulong position)
    {
        lock (_sync)
        {
            if (position < _lowWater || position >= (ulong)Interlocked.Read(ref _next) || !_doneAboveMark.Add(position))
            {
                throw new InvalidOperationException($"position {position} was not taken, or was completed twice (low-water {_lowWater})");
            }

            var outstanding = (int)Math.Min(int.MaxValue, (ulong)Interlocked.Read(ref _next) - _lowWater);
            if (outstanding > _maxOutstanding)
            {
                Volatile.Write(ref _maxOutstanding, outstanding);
            }

            // Bounded: each pass removes one entry of the set.
            while (_doneAboveMark.Remove(_lowWater))
            {
                _lowWater++;
            }
        }

        Interlocked.Increment(ref _completed);
    }
}
