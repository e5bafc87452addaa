namespace ExposureIndex.Crawler.RateLimiting;

/// <summary>
/// The crawl's <c>--concurrency</c>: connections (and UDP exchanges) in flight at once, discovery and identification
/// together. Discovery takes a slot per connect; when a port is open the slot travels with the connection to
/// identification and is freed only when that target is finished, so slow services cannot pile up behind a fast
/// sweep. <see cref="TryAcquire"/> never blocks (the epoll threads use it); waiting callers queue in
/// <see cref="AcquireAsync"/>, and SemaphoreSlim hands a released slot to an asynchronous waiter first.
/// </summary>
internal sealed class ConnectionBudget : IDisposable
{
    private readonly SemaphoreSlim _slots;

    public ConnectionBudget(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _slots = new SemaphoreSlim(capacity, capacity);
    }

    public int Capacity { get; }

    /// <summary>Slots taken now.</summary>
    public int InUse => Capacity - _slots.CurrentCount;

    /// <summary>Takes a slot if one is free now; an expected miss, so no exception.</summary>
    public bool TryAcquire() => _slots.Wait(0);

    public Task AcquireAsync(CancellationToken cancellationToken) => _slots.WaitAsync(cancellationToken);

    /// <summary>Frees one slot taken by <see cref="TryAcquire"/> or <see cref="AcquireAsync"/>.</summary>
    public void Release() => _slots.Release();

    public void Dispose() => _slots.Dispose();
}
