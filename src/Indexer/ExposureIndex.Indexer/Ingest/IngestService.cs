using System.Threading.Channels;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Indexer.Pipeline;
using ExposureIndex.Rpc.Core;
using ExposureIndex.Rpc.Server;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Indexer.Ingest;

/// <summary>
/// The server side of <c>exposure.v1.Ingest/Publish</c>. Batches are processed in a bounded window so that a
/// client can keep several in flight (their commits share an fsync), yet acknowledgements go out strictly in
/// the order the batches arrived, each only after its records are durable.
/// </summary>
public sealed partial class IngestService(IngestPipeline pipeline, ILogger<IngestService> logger)
{
    /// <summary>Batches of one stream being committed at once.</summary>
    public const int Window = 8;

    public async Task PublishAsync(IAsyncStreamReader<PublishBatch> requests, IServerStreamWriter<PublishAck> responses, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(responses);
        ArgumentNullException.ThrowIfNull(context);
        var cancellation = context.CancellationToken;
        var inflight = Channel.CreateBounded<Task<PublishAck>>(new BoundedChannelOptions(Window) { SingleReader = true, SingleWriter = true });
        var peer = context.Peer;
        LogStreamOpened(logger, peer);

        var acknowledger = Task.Run(async () =>
        {
            await foreach (var pending in inflight.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                var ack = await pending.ConfigureAwait(false);
                await responses.WriteAsync(ack, cancellation).ConfigureAwait(false);
            }
        }, CancellationToken.None);

        long batches = 0;
        try
        {
            while (await requests.MoveNext(cancellation).ConfigureAwait(false))
            {
                batches++;
                await inflight.Writer.WriteAsync(pipeline.ProcessAsync(requests.Current, cancellation), cancellation).ConfigureAwait(false);
                if (acknowledger.IsFaulted)
                {
                    break;
                }
            }
        }
        finally
        {
            inflight.Writer.TryComplete();
        }

        try
        {
            await acknowledger.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or ExposureIndex.Storage.StoreCorruptException)
        {
            // The store could not commit: tell the client to retry elsewhere/later; it still holds the batches.
            LogStoreFailure(logger, peer, ex.Message);
            throw new RpcException(new Status(StatusCode.Unavailable, "the Indexer could not commit the batch: " + ex.Message));
        }

        LogStreamClosed(logger, peer, batches);
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Publish stream opened by {Peer}")]
    private static partial void LogStreamOpened(ILogger logger, string peer);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Debug, Message = "Publish stream from {Peer} closed after {Batches} batch(es)")]
    private static partial void LogStreamClosed(ILogger logger, string peer, long batches);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Error, Message = "Publish stream from {Peer}: store failure: {Message}")]
    private static partial void LogStoreFailure(ILogger logger, string peer, string message);
}
