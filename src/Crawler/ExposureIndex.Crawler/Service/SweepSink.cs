using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Publishing;

namespace ExposureIndex.Crawler.Service;

/// <summary>
/// One sweep's view of the service's long-lived <see cref="ResilientSink"/>: the sink, its retries and its spool
/// outlive the sweep, so records a sweep could not deliver keep being replayed while the service waits for the
/// next one. Completing the view waits (within the token) for delivery without ending the sink; disposing it
/// leaves the sink open. Counts are this sweep's share.
/// </summary>
internal sealed class SweepSink(ResilientSink inner) : IRecordSink
{
    private readonly SinkCounts _base = inner.Counts;

    public string Name => inner.Name;

    public SinkCounts Counts
    {
        get
        {
            var now = inner.Counts;
            return new SinkCounts(now.Written - _base.Written, now.Acknowledged - _base.Acknowledged, now.Rejected - _base.Rejected);
        }
    }

    /// <summary>Whether the last completion saw everything delivered (false: some records wait in the spool).</summary>
    public bool Delivered { get; private set; }

    public ValueTask WriteAsync(IReadOnlyList<ServiceRecord> records, CancellationToken cancellationToken = default)
        => inner.WriteAsync(records, cancellationToken);

    public async ValueTask<SinkCounts> FlushAsync(CancellationToken cancellationToken = default)
    {
        await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        return Counts;
    }

    public async ValueTask<SinkResult> CompleteAsync(CancellationToken cancellationToken = default)
    {
        // Not delivered in time is not a failed sweep: the records are durable in the spool and replayed in the background.
        Delivered = await inner.WaitDeliveredAsync(cancellationToken).ConfigureAwait(false);
        return new SinkResult(Counts, [], 0);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
