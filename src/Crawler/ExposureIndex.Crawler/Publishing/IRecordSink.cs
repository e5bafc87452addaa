using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Crawler.Publishing;

/// <summary>
/// Where crawled records go. Usage: any number of <see cref="WriteAsync"/> calls, optionally
/// <see cref="FlushAsync"/>, then <see cref="CompleteAsync"/> once, and always <see cref="IAsyncDisposable.DisposeAsync"/>.
/// Disposing without completing abandons whatever is not yet durable. Sinks compose: a later disk spool or a
/// retrying publisher wraps another sink.
/// </summary>
public interface IRecordSink : IAsyncDisposable
{
    /// <summary>Short description for logs and summaries, e.g. <c>ndjson:/tmp/out.json</c>.</summary>
    string Name { get; }

    /// <summary>A snapshot of the counts so far.</summary>
    SinkCounts Counts { get; }

    /// <summary>
    /// Hands a batch over. Returns when the sink has taken the records, which may be after a wait
    /// (backpressure), not when they are durable. The caller may reuse the list afterwards but must not
    /// change the records.
    /// </summary>
    ValueTask WriteAsync(IReadOnlyList<ServiceRecord> records, CancellationToken cancellationToken = default);

    /// <summary>Returns once every record written so far is durable (file: fsync'd; indexer: acknowledged).</summary>
    ValueTask<SinkCounts> FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>Ends writing, makes everything durable and returns the final account. Idempotent.</summary>
    ValueTask<SinkResult> CompleteAsync(CancellationToken cancellationToken = default);
}

/// <summary>Records handed to a sink, made durable or accepted by the receiver, and refused by it.</summary>
public readonly record struct SinkCounts(long Written, long Acknowledged, long Rejected);

/// <summary>The final account of a sink.</summary>
/// <param name="Counts">Written, acknowledged and rejected records.</param>
/// <param name="Rejections">Every rejected record with its reason (capped at <see cref="MaxListedRejections"/>).</param>
/// <param name="Duplicates">Acknowledged records the receiver already held (an idempotent resend).</param>
public sealed record SinkResult(SinkCounts Counts, IReadOnlyList<RecordRejection> Rejections, long Duplicates)
{
    public const int MaxListedRejections = 1000;

    public static SinkResult Durable(long written) => new(new SinkCounts(written, written, 0), [], 0);
}

/// <summary>A record the receiver refused: which one, and why. Rejected records are reported, never retried.</summary>
/// <param name="Key">The service key, <c>ip:port/transport</c>.</param>
/// <param name="Sequence">The batch it travelled in.</param>
/// <param name="Index">Its position inside that batch.</param>
/// <param name="Code">The receiver's rejection code.</param>
/// <param name="Field">The offending field, e.g. <c>port</c>.</param>
/// <param name="Reason">The receiver's explanation.</param>
public sealed record RecordRejection(string Key, ulong Sequence, uint Index, RejectionCode Code, string Field, string Reason)
{
    public override string ToString() => $"{Key} (batch {Sequence}, #{Index}): {Field}: {Reason} [{Code}]";
}
