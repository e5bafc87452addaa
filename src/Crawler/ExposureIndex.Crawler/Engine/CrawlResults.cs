using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Publishing;

namespace ExposureIndex.Crawler.Engine;

/// <summary>A progress snapshot, reported every ProgressInterval and once at the end.</summary>
/// <param name="Planned">ip:port/transport triples this run's shard visits.</param>
/// <param name="Attempted">Triples tried so far (connects, SYN probes, UDP probes).</param>
/// <param name="Open">Triples that produced a record (a TCP port that accepted, a UDP port that answered).</param>
/// <param name="InFlight">Identifications running right now.</param>
/// <param name="RecordsWritten">Records handed to the sink.</param>
/// <param name="RecordsAcknowledged">Records the sink reports durable or accepted.</param>
/// <param name="Elapsed">Time since the crawl started.</param>
/// <param name="Done">Positions of the shard finished (those a resumed checkpoint had done included): the checkpoint's low-water mark.</param>
public sealed record CrawlProgress(ulong Planned, long Attempted, long Open, long InFlight, long RecordsWritten, long RecordsAcknowledged, TimeSpan Elapsed, ulong Done = 0);

/// <summary>The account of one crawl.</summary>
public sealed record CrawlSummary
{
    public required string ScanId { get; init; }

    /// <summary>Addresses left to scan after the address policy.</summary>
    public required ulong Targets { get; init; }

    public required int TcpPorts { get; init; }

    public required int UdpPorts { get; init; }

    /// <summary>Targets x (TCP ports + UDP ports).</summary>
    public required ulong Planned { get; init; }

    public required long Attempted { get; init; }

    /// <summary>TCP pairs that accepted the connection and UDP pairs that answered a probe; each produced one record.</summary>
    public required long Open { get; init; }

    public required long RecordsWritten { get; init; }

    public required long RecordsAcknowledged { get; init; }

    public required long RecordsRejected { get; init; }

    /// <summary>Rejected records with the receiver's reasons (capped).</summary>
    public required IReadOnlyList<RecordRejection> Rejections { get; init; }

    /// <summary>Addresses the safety policy removed.</summary>
    public required ulong RefusedByPolicy { get; init; }

    /// <summary>One line per refused target or part of one (capped).</summary>
    public required IReadOnlyList<string> Refusals { get; init; }

    /// <summary>Attempts by outcome, success included.</summary>
    public required IReadOnlyDictionary<GrabOutcome, long> Outcomes { get; init; }

    /// <summary>UDP ip:port pairs named by the port spec but not probed: 0 since UDP probing (v1 sent no UDP).</summary>
    public required ulong UdpNotProbed { get; init; }

    public required TimeSpan Elapsed { get; init; }

    /// <summary>The crawl stopped early because it was cancelled; in-flight grabs were drained and the sink completed.</summary>
    public required bool Cancelled { get; init; }

    public required string Sink { get; init; }

    /// <summary><c>connect</c> or <c>syn</c>.</summary>
    public string Mode { get; init; } = "connect";

    /// <summary>This run's shard, <c>K/N</c>.</summary>
    public string Shard { get; init; } = "0/1";

    /// <summary>The permutation seed: give it to every shard, and to a rerun that should visit the same order.</summary>
    public ulong Seed { get; init; }

    /// <summary>Where this run started in its shard (the resumed checkpoint's position, or 0).</summary>
    public ulong ResumedFrom { get; init; }

    /// <summary>Positions of the shard finished, resumed ones included; equal to <see cref="Planned"/> when the sweep is complete.</summary>
    public ulong Done { get; init; }

    /// <summary>Ports that answered with an RST.</summary>
    public long Closed { get; init; }

    /// <summary>Ports that did not answer within the connect timeout (or, for SYN, the reply wait).</summary>
    public long Filtered { get; init; }

    /// <summary>Records left in the disk spool at the end, not yet acknowledged by the Indexer.</summary>
    public long Spooled { get; init; }

    /// <summary>The spool directory used with an Indexer, if any.</summary>
    public string? SpoolDirectory { get; init; }

    /// <summary>The checkpoint file, if any.</summary>
    public string? Checkpoint { get; init; }

    /// <summary>The position the last checkpoint saved (resume starts there); null when none was written.</summary>
    public ulong? CheckpointPosition { get; init; }

    /// <summary>Attempts (or SYN probes) per second allowed; null when unlimited.</summary>
    public double? RateLimit { get; init; }

    /// <summary>Every position of the shard is done and every record is acknowledged (or durable in the output file).</summary>
    public bool Complete => !Cancelled && Done == Planned && Spooled == 0 && RecordsAcknowledged + RecordsRejected == RecordsWritten;
}

/// <summary>The sink failed (disk full, indexer gone). <see cref="Summary"/> tells how far the crawl got.</summary>
public sealed class CrawlSinkException : Exception
{
    public CrawlSinkException()
    {
    }

    public CrawlSinkException(string message)
        : base(message)
    {
    }

    public CrawlSinkException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal CrawlSinkException(string message, Exception innerException, CrawlSummary summary)
        : base(message, innerException)
    {
        Summary = summary;
    }

    public CrawlSummary? Summary { get; }
}

/// <summary>Thread-safe counters shared by discovery and the identification workers.</summary>
internal sealed class CrawlStats
{
    private readonly long[] _outcomes = new long[16];
    private long _jobAttempts;
    private long _open;
    private long _inFlight;
    private long _written;

    /// <summary>Attempts made by identification itself (UDP probes; targets the discovery mode cannot probe).</summary>
    public long JobAttempts => Interlocked.Read(ref _jobAttempts);

    public long Open => Interlocked.Read(ref _open);

    public long InFlight => Interlocked.Read(ref _inFlight);

    public long Written => Interlocked.Read(ref _written);

    public void JobStarted() => Interlocked.Increment(ref _inFlight);

    public void JobAttempt() => Interlocked.Increment(ref _jobAttempts);

    /// <summary>An attempt that ended in discovery (closed, filtered, unreachable) or in identification.</summary>
    public void Outcome(GrabOutcome outcome)
    {
        var slot = (int)outcome;
        Interlocked.Increment(ref _outcomes[slot >= 0 && slot < _outcomes.Length ? slot : 0]);
    }

    public void Finished(in GrabAttempt attempt)
    {
        Interlocked.Decrement(ref _inFlight);
        if (attempt.Record is not null)
        {
            Interlocked.Increment(ref _open);
        }

        Outcome(attempt.Outcome);
    }

    public void Abandoned() => Interlocked.Decrement(ref _inFlight);

    public void AddWritten(int count) => Interlocked.Add(ref _written, count);

    /// <summary>The outcomes so far, plus <paramref name="unanswered"/> connect timeouts (SYN probes nobody answered).</summary>
    public IReadOnlyDictionary<GrabOutcome, long> Outcomes(long unanswered = 0)
    {
        var result = new SortedDictionary<GrabOutcome, long>();
        for (var i = 0; i < _outcomes.Length; i++)
        {
            var count = Interlocked.Read(ref _outcomes[i]) + (i == (int)GrabOutcome.ConnectTimeout ? unanswered : 0);
            if (count > 0)
            {
                result[(GrabOutcome)i] = count;
            }
        }

        return result;
    }
}
