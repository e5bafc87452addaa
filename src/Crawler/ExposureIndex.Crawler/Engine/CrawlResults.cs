using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Publishing;

namespace ExposureIndex.Crawler.Engine;

/// <summary>A progress snapshot, reported every ProgressInterval and once at the end.</summary>
/// <param name="Planned">ip:port/transport pairs this crawl will try (TCP, then UDP).</param>
/// <param name="Attempted">Pairs tried so far.</param>
/// <param name="Open">Pairs that accepted the connection.</param>
/// <param name="InFlight">Grabs running right now.</param>
/// <param name="RecordsWritten">Records handed to the sink.</param>
/// <param name="RecordsAcknowledged">Records the sink reports durable or accepted.</param>
/// <param name="Elapsed">Time since the crawl started.</param>
public sealed record CrawlProgress(ulong Planned, long Attempted, long Open, long InFlight, long RecordsWritten, long RecordsAcknowledged, TimeSpan Elapsed);

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

/// <summary>Thread-safe counters shared by the workers.</summary>
internal sealed class CrawlStats
{
    private readonly long[] _outcomes = new long[16];
    private long _attempted;
    private long _open;
    private long _inFlight;
    private long _written;

    public long Attempted => Interlocked.Read(ref _attempted);

    public long Open => Interlocked.Read(ref _open);

    public long InFlight => Interlocked.Read(ref _inFlight);

    public long Written => Interlocked.Read(ref _written);

    public void Started() => Interlocked.Increment(ref _inFlight);

    public void Finished(in GrabAttempt attempt)
    {
        Interlocked.Decrement(ref _inFlight);
        Interlocked.Increment(ref _attempted);
        if (attempt.Record is not null)
        {
            Interlocked.Increment(ref _open);
        }

        var slot = (int)attempt.Outcome;
        Interlocked.Increment(ref _outcomes[slot >= 0 && slot < _outcomes.Length ? slot : 0]);
    }

    public void Abandoned() => Interlocked.Decrement(ref _inFlight);

    public void AddWritten(int count) => Interlocked.Add(ref _written, count);

    public IReadOnlyDictionary<GrabOutcome, long> Outcomes()
    {
        var result = new SortedDictionary<GrabOutcome, long>();
        for (var i = 0; i < _outcomes.Length; i++)
        {
            var count = Interlocked.Read(ref _outcomes[i]);
            if (count > 0)
            {
                result[(GrabOutcome)i] = count;
            }
        }

        return result;
    }
}
