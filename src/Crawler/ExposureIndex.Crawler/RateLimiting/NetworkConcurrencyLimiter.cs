using System.Net.Sockets;
using System.Numerics;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.RateLimiting;

/// <summary>
/// Caps the connections in flight to any one network: a /24 for IPv4 and a /64 for IPv6 by default (the
/// smallest blocks commonly assigned to one site), so a sweep never piles its concurrency onto one network
/// even when the permutation clusters there, and a scan of a single /24 is held to the cap.
/// </summary>
/// <remarks>
/// Networks are counted in a fixed table of buckets (a hash of the network prefix), so the limiter never
/// allocates and holds constant memory however many networks a sweep touches. Two networks that share a bucket
/// share one cap: conservative, the cap is never exceeded for any network; with 65,536 buckets and at most a
/// few thousand connections in flight, sharing is rare. The fast path (<see cref="TryAcquire"/>, release with
/// nobody waiting) is one compare-and-swap; waiters queue per bucket in arrival order under a lock.
/// </remarks>
internal sealed class NetworkConcurrencyLimiter
{
    public const int DefaultBuckets = 1 << 16;

    private readonly int[] _inFlight;
    private readonly int[] _waiting;
    private readonly Dictionary<int, LinkedList<Waiter>> _queues = [];
    private readonly Lock _sync = new();
    private readonly int _v4Shift;
    private readonly int _v6Shift;
    private readonly int _bucketBits;

    public NetworkConcurrencyLimiter(int maxPerNetwork, int ipv4PrefixLength = 24, int ipv6PrefixLength = 64, int buckets = DefaultBuckets)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerNetwork, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(ipv4PrefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ipv4PrefixLength, 32);
        ArgumentOutOfRangeException.ThrowIfNegative(ipv6PrefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ipv6PrefixLength, 128);
        if (buckets < 2 || !BitOperations.IsPow2(buckets))
        {
            throw new ArgumentOutOfRangeException(nameof(buckets), buckets, "the bucket count must be a power of two");
        }

        MaxPerNetwork = maxPerNetwork;
        Ipv4PrefixLength = ipv4PrefixLength;
        Ipv6PrefixLength = ipv6PrefixLength;
        _v4Shift = 32 - ipv4PrefixLength;
        _v6Shift = 128 - ipv6PrefixLength;
        _bucketBits = BitOperations.Log2((uint)buckets);
        _inFlight = new int[buckets];
        _waiting = new int[buckets];
    }

    public int MaxPerNetwork { get; }

    public int Ipv4PrefixLength { get; }

    public int Ipv6PrefixLength { get; }

    /// <summary>Buckets with something in flight or waiting (a scan of the table, for tests and diagnostics).</summary>
    public int ActiveNetworks
    {
        get
        {
            var active = 0;
            for (var i = 0; i < _inFlight.Length; i++)
            {
                if (Volatile.Read(ref _inFlight[i]) != 0 || Volatile.Read(ref _waiting[i]) != 0)
                {
                    active++;
                }
            }

            return active;
        }
    }

    /// <summary>The network a target belongs to, e.g. 198.51.100.0/24.</summary>
    public AddressRange NetworkOf(AddressFamily family, UInt128 addressKey)
    {
        var shift = Shift(family);
        var span = shift == 128 ? UInt128.MaxValue : (UInt128.One << shift) - 1;
        var first = addressKey & ~span & AddressRange.MaxValue(family);
        return new AddressRange(family, first, first | span);
    }

    /// <summary>In flight now in the bucket of the target's network (its own count, plus any network sharing the bucket).</summary>
    public int InFlight(AddressFamily family, UInt128 addressKey) => Volatile.Read(ref _inFlight[Bucket(family, addressKey)]);

    /// <summary>Takes a slot only if one is free now and nobody waits for it; an expected miss, so no exception.</summary>
    public bool TryAcquire(AddressFamily family, UInt128 addressKey, out Lease lease)
    {
        var bucket = Bucket(family, addressKey);
        if (Volatile.Read(ref _waiting[bucket]) == 0 && TryIncrement(bucket))
        {
            lease = new Lease(this, bucket);
            return true;
        }

        lease = default;
        return false;
    }

    public ValueTask<Lease> AcquireAsync(ScanTriple target, CancellationToken cancellationToken = default)
        => AcquireAsync(target.Family, target.AddressKey, cancellationToken);

    /// <summary>Waits for a slot of the target's network (first come, first served); dispose the lease when done.</summary>
    public ValueTask<Lease> AcquireAsync(AddressFamily family, UInt128 addressKey, CancellationToken cancellationToken = default)
    {
        var bucket = Bucket(family, addressKey);
        if (Volatile.Read(ref _waiting[bucket]) == 0 && TryIncrement(bucket))
        {
            return ValueTask.FromResult(new Lease(this, bucket));
        }

        cancellationToken.ThrowIfCancellationRequested();
        var waiter = new Waiter(bucket);
        lock (_sync)
        {
            if (!_queues.TryGetValue(bucket, out var queue))
            {
                queue = new LinkedList<Waiter>();
                _queues.Add(bucket, queue);
            }

            queue.AddLast(waiter.Node);
            Interlocked.Increment(ref _waiting[bucket]);
            // A slot may have freed between the failed attempt and the enqueue.
            DrainLocked(bucket);
        }

        return WaitAsync(waiter, cancellationToken);
    }

    private async ValueTask<Lease> WaitAsync(Waiter waiter, CancellationToken cancellationToken)
    {
        using (cancellationToken.UnsafeRegister(static (state, token) => ((Waiter)state!).Granted.TrySetCanceled(token), waiter))
        {
            try
            {
                await waiter.Granted.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                lock (_sync)
                {
                    if (waiter.Node.List is { } queue)
                    {
                        queue.Remove(waiter.Node);
                        Interlocked.Decrement(ref _waiting[waiter.Bucket]);
                        if (queue.Count == 0)
                        {
                            _queues.Remove(waiter.Bucket);
                        }
                    }
                }

                // Not queued any more: the drain dequeued it, failed to grant the cancelled wait and gave the slot back.
                throw;
            }
        }

        return new Lease(this, waiter.Bucket);
    }

    private void Release(int bucket)
    {
        if (Volatile.Read(ref _waiting[bucket]) == 0)
        {
            Interlocked.Decrement(ref _inFlight[bucket]);
            if (Volatile.Read(ref _waiting[bucket]) == 0)
            {
                return;
            }
        }
        else
        {
            Interlocked.Decrement(ref _inFlight[bucket]);
        }

        lock (_sync)
        {
            DrainLocked(bucket);
        }
    }

    /// <summary>Grants free slots of <paramref name="bucket"/> to its waiters, oldest first.</summary>
    private void DrainLocked(int bucket)
    {
        if (!_queues.TryGetValue(bucket, out var queue))
        {
            return;
        }

        // Bounded: each pass dequeues one waiter.
        while (queue.First is { } first && TryIncrement(bucket))
        {
            queue.RemoveFirst();
            Interlocked.Decrement(ref _waiting[bucket]);
            if (!first.Value.Granted.TrySetResult())
            {
                // Cancelled just now: the slot goes back and the next waiter gets a chance.
                Interlocked.Decrement(ref _inFlight[bucket]);
            }
        }

        if (queue.Count == 0)
        {
            _queues.Remove(bucket);
        }
    }

    private bool TryIncrement(int bucket)
    {
        // Bounded: retries only while other threads change the same counter.
        while (true)
        {
            var current = Volatile.Read(ref _inFlight[bucket]);
            if (current >= MaxPerNetwork)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _inFlight[bucket], current + 1, current) == current)
            {
                return true;
            }
        }
    }

    private int Shift(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => _v4Shift,
        AddressFamily.InterNetworkV6 => _v6Shift,
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "only IPv4 and IPv6 targets are limited"),
    };

    private int Bucket(AddressFamily family, UInt128 addressKey)
    {
        var shift = Shift(family);
        var network = shift == 128 ? UInt128.Zero : addressKey >> shift;
        // Fold to 64 bits, keep the family apart, then Fibonacci hashing (Knuth, TAOCP 6.4): the top bits of the product.
        var folded = (ulong)network ^ (ulong)(network >> 64) ^ (family == AddressFamily.InterNetworkV6 ? 0x9E3779B97F4A7C15UL : 0);
        return (int)((folded * 0x9E3779B97F4A7C15UL) >> (64 - _bucketBits));
    }

    /// <summary>One slot of one network; disposing it frees the slot (once).</summary>
    internal struct Lease : IDisposable
    {
        private NetworkConcurrencyLimiter? _owner;
        private readonly int _bucket;

        internal Lease(NetworkConcurrencyLimiter owner, int bucket)
        {
            _owner = owner;
            _bucket = bucket;
        }

        public void Dispose()
        {
            var owner = _owner;
            _owner = null;
            owner?.Release(_bucket);
        }
    }

    private sealed class Waiter
    {
        public Waiter(int bucket)
        {
            Bucket = bucket;
            Node = new LinkedListNode<Waiter>(this);
        }

        public int Bucket { get; }

        public LinkedListNode<Waiter> Node { get; }

        public TaskCompletionSource Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
