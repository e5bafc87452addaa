namespace ExposureIndex.Crawler.Engine;

/// <summary>Work that a checkpoint would have covered was abandoned (an abort, or a failed sink): no checkpoint may pass it.</summary>
internal sealed class WorkLostException : Exception
{
    public WorkLostException()
    {
    }

    public WorkLostException(string message)
        : base(message)
    {
    }

    public WorkLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The checkpoint's view of identification: every target handed from discovery to identification gets a ticket
/// (numbered in hand-over order), and the ticket is done once the target's record has been handed to the sink, or
/// at once when it produced none. <see cref="WaitAsync"/> is the first half of the durability barrier: a checkpoint
/// takes the sweep's low-water mark, then waits for every ticket issued so far, then flushes the sink. Discovery
/// issues a target's ticket before it completes the target's position, so every position below the mark has its
/// ticket below the wait, whatever the discovery mode (for SYN scans the open ports arrive before their positions
/// complete, ReplyWait after the probe).
/// A ticket abandoned by an abort is <see cref="Lose">lost</see>: from then on every wait fails, so no checkpoint
/// can pass work that was never finished, and the resumed sweep redoes it.
/// </summary>
internal sealed class WorkTickets
{
    private readonly Lock _sync = new();
    private readonly HashSet<long> _doneAboveMark = [];
    private readonly List<(long Upto, TaskCompletionSource Signal)> _waiters = [];
    private long _issued;
    private long _lowWater;
    private long _lost;
    private string? _lossReason;

    /// <summary>Tickets issued so far; a wait for this many covers everything handed over until now.</summary>
    public long Issued => Interlocked.Read(ref _issued);

    /// <summary>Every ticket below this is done.</summary>
    public long LowWater
    {
        get
        {
            lock (_sync)
            {
                return _lowWater;
            }
        }
    }

    public long Lost => Interlocked.Read(ref _lost);

    public long Issue() => Interlocked.Increment(ref _issued) - 1;

    /// <summary>Marks <paramref name="ticket"/> done (each issued ticket once: done or lost).</summary>
    public void Done(long ticket)
    {
        List<TaskCompletionSource>? release = null;
        lock (_sync)
        {
            if (ticket < _lowWater || ticket >= Interlocked.Read(ref _issued) || !_doneAboveMark.Add(ticket))
            {
                throw new InvalidOperationException($"ticket {ticket} was not issued, or was finished twice (low-water {_lowWater})");
            }

            // Bounded: each pass removes one entry of the set.
            while (_doneAboveMark.Remove(_lowWater))
            {
                _lowWater++;
            }

            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Upto <= _lowWater)
                {
                    (release ??= []).Add(_waiters[i].Signal);
                    _waiters.RemoveAt(i);
                }
            }
        }

        release?.ForEach(s => s.TrySetResult());
    }

    /// <summary>Marks <paramref name="ticket"/> abandoned: every wait, now and later, fails with <paramref name="reason"/>.</summary>
    public void Lose(long ticket, string reason)
    {
        _ = ticket;
        List<TaskCompletionSource> fail;
        lock (_sync)
        {
            Interlocked.Increment(ref _lost);
            _lossReason ??= reason;
            fail = [.. _waiters.Select(w => w.Signal)];
            _waiters.Clear();
        }

        var error = LossError();
        fail.ForEach(s => s.TrySetException(error));
    }

    /// <summary>Completes when every ticket below <paramref name="upto"/> is done; fails when any ticket was lost.</summary>
    public Task WaitAsync(long upto, CancellationToken cancellationToken)
    {
        TaskCompletionSource signal;
        lock (_sync)
        {
            if (Interlocked.Read(ref _lost) > 0)
            {
                return Task.FromException(LossError());
            }

            if (upto <= _lowWater)
            {
                return Task.CompletedTask;
            }

            signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((upto, signal));
        }

        return signal.Task.WaitAsync(cancellationToken);
    }

    private WorkLostException LossError()
    {
        lock (_sync)
        {
            return new WorkLostException($"{_lost} target(s) handed to identification were abandoned ({_lossReason}); the checkpoint stays at its last position, before them");
        }
    }
}
