namespace ExposureIndex.Crawler.Service;

/// <summary>
/// One reading of a running sweep, the common input of the progress line, the stats JSON, the metrics page and
/// health. The engine fills it from its counters; nothing in here reads a clock.
/// </summary>
internal sealed record SweepSnapshot
{
    /// <summary><c>connect</c> or <c>syn</c>.</summary>
    public string Mode { get; init; } = "connect";

    public string Shard { get; init; } = "0/1";

    /// <summary>Positions in this shard.</summary>
    public ulong Planned { get; init; }

    /// <summary>Positions finished (this run plus what a resumed checkpoint had done).</summary>
    public ulong Done { get; init; }

    /// <summary>Where this run started (the resumed position, or 0).</summary>
    public ulong ResumedFrom { get; init; }

    public long Attempted { get; init; }

    public long Open { get; init; }

    public long Closed { get; init; }

    public long Filtered { get; init; }

    public long RecordsWritten { get; init; }

    public long RecordsAcknowledged { get; init; }

    public long RecordsRejected { get; init; }

    /// <summary>Records in the disk spool waiting for the Indexer.</summary>
    public long Spooled { get; init; }

    public TimeSpan Elapsed { get; init; }

    /// <summary>The configured rate limit (attempts per second), null when unlimited.</summary>
    public double? RateLimit { get; init; }

    public bool Cancelled { get; init; }

    /// <summary>The scan id stamped on this sweep's records.</summary>
    public string? ScanId { get; init; }

    /// <summary>The permutation seed (what every shard and a resume must share).</summary>
    public ulong? Seed { get; init; }
}
