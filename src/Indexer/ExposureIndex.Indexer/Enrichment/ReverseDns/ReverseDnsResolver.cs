using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace ExposureIndex.Indexer.Enrichment.ReverseDns;

/// <summary>Reverse DNS settings. Off unless enabled: lookups send queries to a resolver, which tests and demos must not do.</summary>
public sealed record ReverseDnsOptions
{
    /// <summary>The recursive resolver to ask (default: the first nameserver in /etc/resolv.conf).</summary>
    public IPEndPoint? Resolver { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);

    public int Attempts { get; init; } = 2;

    public int MaxConcurrentQueries { get; init; } = 64;

    /// <summary>How long one batch may wait for lookups; names that arrive later are used for the next sighting.</summary>
    public TimeSpan BatchBudget { get; init; } = TimeSpan.FromSeconds(3);

    public int CacheEntries { get; init; } = 200_000;

    public TimeSpan MinTtl { get; init; } = TimeSpan.FromMinutes(10);

    public TimeSpan MaxTtl { get; init; } = TimeSpan.FromDays(1);

    public TimeSpan NegativeTtl { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Also look up loopback, private and other special-purpose addresses (normally pointless, and leaky).</summary>
    public bool IncludeSpecialPurpose { get; init; }

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Timeout <= TimeSpan.Zero)
        {
            errors.Add("the reverse DNS timeout must be positive");
        }

        if (Attempts is < 1 or > 5)
        {
            errors.Add("reverse DNS attempts must be 1-5");
        }

        if (MaxConcurrentQueries is < 1 or > 4096)
        {
            errors.Add("reverse DNS concurrency must be 1-4096");
        }

        if (CacheEntries < 0)
        {
            errors.Add("the reverse DNS cache size cannot be negative");
        }

        return errors;
    }

    /// <summary>The first nameserver of /etc/resolv.conf, or null.</summary>
    public static IPEndPoint? SystemResolver(string path = "/etc/resolv.conf")
    {
        if (!File.Exists(path))
        {
            return null;
        }

        foreach (var line in File.ReadLines(path))
        {
            var parts = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 2 && parts[0] == "nameserver" && IPAddress.TryParse(parts[1], out var address))
            {
                return new IPEndPoint(address, 53);
            }
        }

        return null;
    }
}

/// <summary>
/// PTR lookups over UDP (RFC 1035) with a per-query timeout, retries, a concurrency cap and a bounded cache of
/// positive and negative answers. Thread-safe.
/// </summary>
public sealed class ReverseDnsResolver : IDisposable
{
    private readonly ReverseDnsOptions _options;
    private readonly IPEndPoint _resolver;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _slots;
    private readonly Dictionary<IPAddress, CacheEntry> _cache = new();
    private readonly Queue<IPAddress> _order = new();
    private readonly Lock _lock = new();
    private long _queries;

    public ReverseDnsResolver(ReverseDnsOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(options));
        }

        _options = options;
        _resolver = options.Resolver ?? ReverseDnsOptions.SystemResolver()
            ?? throw new ArgumentException("no resolver given and /etc/resolv.conf names none", nameof(options));
        _time = time ?? TimeProvider.System;
        _slots = new SemaphoreSlim(options.MaxConcurrentQueries);
    }

    /// <summary>Queries sent to the resolver so far (cache hits excluded).</summary>
    public long QueriesSent => Interlocked.Read(ref _queries);

    /// <summary>PTR names for <paramref name="address"/> (empty when it has none or the resolver did not answer in time).</summary>
    public async Task<IReadOnlyList<string>> ResolveAsync(IPAddress address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (_cache.TryGetValue(address, out var cached) && cached.Expires > now)
            {
                return cached.Names;
            }
        }

        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var (names, ttl) = await QueryAsync(address, cancellationToken).ConfigureAwait(false);
            if (ttl is { } lifetime)
            {
                Remember(address, names, now + lifetime);
            }

            return names;
        }
        finally
        {
            _slots.Release();
        }
    }

    public void Dispose() => _slots.Dispose();

    private async Task<(IReadOnlyList<string> Names, TimeSpan? Ttl)> QueryAsync(IPAddress address, CancellationToken cancellationToken)
    {
        var name = PtrMessage.ReverseName(address);
        for (var attempt = 0; attempt < _options.Attempts; attempt++)
        {
            var id = (ushort)RandomNumberGenerator.GetInt32(ushort.MaxValue + 1);
            using var socket = new Socket(_resolver.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            socket.Connect(_resolver);
            Interlocked.Increment(ref _queries);
            await socket.SendAsync(PtrMessage.Query(id, name), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.Timeout);
            var buffer = new byte[4096];
            try
            {
                while (true)
                {
                    var n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                    if (PtrMessage.TryParseAnswer(buffer.AsSpan(0, n), id, out var names, out var ttl, out var nxdomain, out _))
                    {
                        if (nxdomain || names.Count == 0)
                        {
                            return ([], _options.NegativeTtl);
                        }

                        var lifetime = TimeSpan.FromSeconds(Math.Clamp(ttl, _options.MinTtl.TotalSeconds, _options.MaxTtl.TotalSeconds));
                        return (names, lifetime);
                    }

                    // A stray or spoofed datagram: keep waiting for ours until the timeout.
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Timed out: try again, then give up without caching (the resolver may answer next time).
            }
            catch (SocketException)
            {
                return ([], null);
            }
        }

        return ([], null);
    }

    private void Remember(IPAddress address, IReadOnlyList<string> names, DateTimeOffset expires)
    {
        if (_options.CacheEntries == 0)
        {
            return;
        }

        lock (_lock)
        {
            if (!_cache.ContainsKey(address))
            {
                _order.Enqueue(address);
            }

            _cache[address] = new CacheEntry(names, expires);
            while (_cache.Count > _options.CacheEntries && _order.TryDequeue(out var oldest))
            {
                _cache.Remove(oldest);
            }
        }
    }

    private sealed record CacheEntry(IReadOnlyList<string> Names, DateTimeOffset Expires);
}
