using System.Net.Sockets;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.RateLimiting;

/// <summary>
/// Caps the connections in flight to any one network: a /24 for IPv4 and a /64 for IPv6 by default (the
/// smallest blocks commonly assigned to one site), so a sweep over a large space never piles its whole
/// concurrency onto one network even when the permutation happens to cluster there, and a scan of a single
/// /24 is held to the cap. A waiter is woken in arrival order (FIFO) when a slot of its network frees.
/// Idle networks hold no memory: an entry lives only while something is in flight or waiting.
/// </summary>
internal sealed class NetworkConcurrencyLimiter
{
    private readonly Dictionary<(AddressFamily, UInt128), Entry> _networks = [];
    private readonly Lock _sync = new();
    private readonly int _v4Shift;
    private readonly int _v6Shift;

    public NetworkConcurrencyLimiter(int maxPerNetwork, int ipv4PrefixLength = 24, int ipv6PrefixLength = 64)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerNetwork, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(ipv4PrefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ipv4PrefixLength, 32);
        ArgumentOutOfRangeException.ThrowIfNegative(ipv6PrefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ipv6PrefixLength, 128);
        MaxPerNetwork = maxPerNetwork;
        Ipv4PrefixLength = ipv4PrefixLength;
        Ipv6PrefixLength = ipv6PrefixLength;
        _v4Shift = 32 - ipv4PrefixLength;
        _v6Shift = 128 - ipv6PrefixLength;
    }

    public int MaxPerNetwork { get; }

    public int Ipv4PrefixLength { get; }

    public int Ipv6PrefixLength { get; }

    /// <summary>Networks with something in flight or waiting.</summary>
    public int ActiveNetworks
    {
        get
        {
            lock (_sync)
            {
                return _networks.Count;
            }
        }
    }

    /// <summary>The network a target belongs to, e.g. 198.51.100.0/24.</summary>
    public AddressRange NetworkOf(AddressFamily family, UInt128 addressKey)
    {
        var key = NetworkKey(family, addressKey);
        var shift = family == AddressFamily.InterNetwork ? _v4Shift : _v6Shift;
        var first = shift == 128 ? UInt128.Zero : key.Item2 << shift;
        var span = shift == 128 ? UInt128.MaxValue : (UInt128.One << shift) - 1;
        return new AddressRange(family, first, first | span);
    }

    /// <summary>In flight now to the network of (<paramref name="family"/>, <paramref name="addressKey"/>).</summary>
    public int InFlight(AddressFamily family, UInt128 addressKey)
    {
        lock (_sync)
        {
            return _networks.TryGetValue(NetworkKey(family, addressKey), out var entry) ? entry.InFlight : 0;
        }
    }

    public ValueTask<Lease> AcquireAsync(ScanTriple target, CancellationToken cancellationToken = default)
        => AcquireAsync(target.Family, target.AddressKey, cancellationToken);

    /// <summary>Waits for a slot of the target's network; dispose the lease when the connection is over.</summary>
    public ValueTask<Lease> AcquireAsync(AddressFamily family, UInt128 addressKey, CancellationToken cancellationToken = default)
    {
        var key = NetworkKey(family, addressKey);
        Waiter waiter;
        lock (_sync)
        {
            if (!_networks.TryGetValue(key, out var entry))
            {
                entry = new Entry();
                _networks.Add(key, entry);
            }

            if (entry.InFlight < MaxPerNetwork && entry.Waiters.Count == 0)
            {
                entry.InFlight++;
                return ValueTask.FromResult(new Lease(this, key));
            }

            cancellationToken.ThrowIfCancellationRequested();
            waiter = new Waiter(key);
            entry.Waiters.AddLast(waiter.Node);
        }

        return WaitAsync(waiter, cancellationToken);
    }

    private async ValueTask<Lease> WaitAsync(Waiter waiter, CancellationToken cancellationToken)
    {
        using (cancellationToken.UnsafeRegister(static (state, token) => ((Waiter)state!).Cancel(token), waiter))
        {
            try
            {
                await waiter.Granted.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                lock (_sync)
                {
                    if (waiter.Node.List is not null)
                    {
                        var entry = _networks[waiter.Key];
                        entry.Waiters.Remove(waiter.Node);
                        RemoveIfIdle(waiter.Key, entry);
                    }
                }

                // Not queued any more: Release dequeued it, failed to grant the cancelled wait and passed the slot on.
                throw;
            }
        }

        return new Lease(this, waiter.Key);
    }

    private void Release((AddressFamily, UInt128) key)
    {
        Waiter? next = null;
        lock (_sync)
        {
            var entry = _networks[key];
            if (entry.Waiters.First is { } first)
            {
                // Hand the slot over directly: in flight stays the same, and nobody can jump the queue.
                entry.Waiters.RemoveFirst();
                next = first.Value;
            }
            else
            {
                entry.InFlight--;
                RemoveIfIdle(key, entry);
            }
        }

        if (next is not null && !next.Granted.TrySetResult())
        {
            // Cancelled between dequeue and grant: pass the slot on.
            Release(key);
        }
    }

    private void RemoveIfIdle((AddressFamily, UInt128) key, Entry entry)
    {
        if (entry.InFlight == 0 && entry.Waiters.Count == 0)
        {
            _networks.Remove(key);
        }
    }

    private (AddressFamily, UInt128) NetworkKey(AddressFamily family, UInt128 addressKey) => family switch
    {
        AddressFamily.InterNetwork => (family, _v4Shift == 32 ? UInt128.Zero : addressKey >> _v4Shift),
        AddressFamily.InterNetworkV6 => (family, _v6Shift == 128 ? UInt128.Zero : addressKey >> _v6Shift),
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "only IPv4 and IPv6 targets are limited"),
    };

    /// <summary>One slot of one network; disposing it frees the slot (once).</summary>
    internal struct Lease : IDisposable
    {
        private NetworkConcurrencyLimiter? _owner;
        private readonly (AddressFamily, UInt128) _key;

        internal Lease(NetworkConcurrencyLimiter owner, (AddressFamily, UInt128) key)
        {
            _owner = owner;
            _key = key;
        }

        public void Dispose()
        {
            var owner = _owner;
            _owner = null;
            owner?.Release(_key);
        }
    }

    private sealed class Entry
    {
        public int InFlight;

        public LinkedList<Waiter> Waiters { get; } = new();
    }

    private sealed class Waiter
    {
        public Waiter((AddressFamily, UInt128) key)
        {
            Key = key;
            Node = new LinkedListNode<Waiter>(this);
        }

        public (AddressFamily, UInt128) Key { get; }

        public LinkedListNode<Waiter> Node { get; }

        public TaskCompletionSource Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Cancel(CancellationToken token) => Granted.TrySetCanceled(token);
    }
}
