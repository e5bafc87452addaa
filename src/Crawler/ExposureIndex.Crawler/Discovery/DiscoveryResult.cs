using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Discovery;

/// <summary>What port discovery learned about one target. Stable numbers: they appear in stats output.</summary>
internal enum PortState
{
    /// <summary>Handshake completed (connect) or SYN-ACK received (SYN): hand it to identification.</summary>
    Open = 1,

    /// <summary>RST: nothing listens.</summary>
    Closed = 2,

    /// <summary>No answer within the timeout.</summary>
    Filtered = 3,

    /// <summary>ICMP unreachable or no route.</summary>
    Unreachable = 4,

    /// <summary>Our side failed (out of sockets or ephemeral ports); the target was not really tried.</summary>
    LocalError = 5,

    /// <summary>This discovery mode cannot probe the target (e.g. UDP or IPv6 in SYN mode); another mode must.</summary>
    Unsupported = 6,
}

/// <summary>
/// One discovery answer: the shard position it came from (for the checkpoint), the target and its state. With
/// hand-off on (<see cref="ConnectScanOptions.HandOff"/>), an open port or a target discovery cannot probe carries
/// a <see cref="Discovery.Handoff"/> (the connection and the slots it holds), which the receiver must dispose.
/// </summary>
internal readonly record struct DiscoveryResult(ulong Position, ScanTriple Target, PortState State, string? Error = null, Handoff? Handoff = null);

/// <summary>Counts of one discovery run, safe to read while it runs.</summary>
internal sealed class DiscoveryCounters
{
    private long _attempted;
    private long _open;
    private long _closed;
    private long _filtered;
    private long _unreachable;
    private long _localErrors;
    private long _unsupported;

    public long Attempted => Interlocked.Read(ref _attempted);

    public long Open => Interlocked.Read(ref _open);

    public long Closed => Interlocked.Read(ref _closed);

    public long Filtered => Interlocked.Read(ref _filtered);

    public long Unreachable => Interlocked.Read(ref _unreachable);

    public long LocalErrors => Interlocked.Read(ref _localErrors);

    public long Unsupported => Interlocked.Read(ref _unsupported);

    public void Attempt() => Interlocked.Increment(ref _attempted);

    public void Count(PortState state)
    {
        switch (state)
        {
            case PortState.Open:
                Interlocked.Increment(ref _open);
                break;
            case PortState.Closed:
                Interlocked.Increment(ref _closed);
                break;
            case PortState.Filtered:
                Interlocked.Increment(ref _filtered);
                break;
            case PortState.Unreachable:
                Interlocked.Increment(ref _unreachable);
                break;
            case PortState.LocalError:
                Interlocked.Increment(ref _localErrors);
                break;
            case PortState.Unsupported:
                Interlocked.Increment(ref _unsupported);
                break;
        }
    }
}
