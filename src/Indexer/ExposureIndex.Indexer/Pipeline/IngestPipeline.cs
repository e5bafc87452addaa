using ExposureIndex.Contracts.V1;
using ExposureIndex.Indexer.Enrichment;
using ExposureIndex.Indexer.Ingest;
using ExposureIndex.Storage;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Indexer.Pipeline;

/// <summary>
/// One batch through the Indexer: validate each record (bad ones are rejected alone, with a reason), enrich the
/// rest, commit them to the store, and only then build the acknowledgement. Concurrent batches from several
/// streams meet in the store's group commit.
/// </summary>
public sealed partial class IngestPipeline(IExposureStore store, RecordValidator validator, IReadOnlyList<IRecordEnricher> enrichers, ILogger<IngestPipeline> logger)
{
    private long _accepted;
    private long _rejected;
    private long _duplicates;
    private long _batches;

    public IngestCounters Counters => new(Interlocked.Read(ref _batches), Interlocked.Read(ref _accepted), Interlocked.Read(ref _rejected), Interlocked.Read(ref _duplicates));

    public async Task<PublishAck> ProcessAsync(PublishBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var ack = new PublishAck { Sequence = batch.Sequence };
        var valid = new List<ServiceRecord>(batch.Records.Count);
        for (var i = 0; i < batch.Records.Count; i++)
        {
            var record = batch.Records[i];
            var rejection = validator.Validate(record, (uint)i);
            if (rejection is null)
            {
                valid.Add(record);
            }
            else
            {
                ack.Rejections.Add(rejection);
            }
        }

        if (ack.Rejections.Count > 0)
        {
            LogRejected(logger, batch.Sequence, batch.Producer, ack.Rejections.Count, ack.Rejections[0].Reason);
        }

        foreach (var enricher in enrichers)
        {
            await enricher.EnrichAsync(valid, cancellationToken).ConfigureAwait(false);
        }

        var result = await store.IngestAsync(valid, cancellationToken).ConfigureAwait(false);
        ack.Accepted = (uint)valid.Count;
        ack.Rejected = (uint)ack.Rejections.Count;
        ack.Duplicates = (uint)result.Count(IngestDisposition.Duplicate);

        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _accepted, ack.Accepted);
        Interlocked.Add(ref _rejected, ack.Rejected);
        Interlocked.Add(ref _duplicates, ack.Duplicates);
        return ack;
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Batch {Sequence} from {Producer}: rejected {Count} record(s); first: {Reason}")]
    private static partial void LogRejected(ILogger logger, ulong sequence, string producer, int count, string reason);
}

/// <summary>Totals since start, for health and metrics.</summary>
public sealed record IngestCounters(long Batches, long Accepted, long Rejected, long Duplicates);
