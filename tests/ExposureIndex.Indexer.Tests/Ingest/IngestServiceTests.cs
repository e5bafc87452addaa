using ExposureIndex.Contracts.V1;
using ExposureIndex.Indexer.Tests.Support;
using ExposureIndex.Query;
using ExposureIndex.Rpc.Client;
using ExposureIndex.Rpc.Services;
using ExposureIndex.Storage;

namespace ExposureIndex.Indexer.Tests.Ingest;

public sealed class IngestServiceTests
{
    private static CancellationToken Timeout(int seconds = 30)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(seconds));
        return cts.Token;
    }

    [Fact]
    public async Task Publish_BatchWithOneBadRecord_AcksAcceptedAndRejectsOnlyThatRecord()
    {
        await using var server = await IndexerServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        var ct = Timeout();
        using var call = channel.DuplexStreamingCall(IngestRpc.Publish);

        var batch = new PublishBatch { Sequence = 7, Producer = "test" };
        batch.Records.Add(Records.Valid("198.51.100.1"));
        batch.Records.Add(Records.Valid("198.51.100.2", port: 0));
        batch.Records.Add(Records.Valid("198.51.100.3"));
        await call.RequestStream.WriteAsync(batch, ct);
        await call.RequestStream.CompleteAsync();

        Assert.True(await call.ResponseStream.MoveNext(ct));
        var ack = call.ResponseStream.Current;
        Assert.Equal(7ul, ack.Sequence);
        Assert.Equal(2u, ack.Accepted);
        Assert.Equal(1u, ack.Rejected);
        var rejection = Assert.Single(ack.Rejections);
        Assert.Equal(1u, rejection.Index);
        Assert.Equal(RejectionCode.InvalidPort, rejection.Code);
        Assert.False(await call.ResponseStream.MoveNext(ct));
        Assert.Equal(Rpc.Core.StatusCode.OK, call.GetStatus().StatusCode);

        // Acknowledged means committed: the records are queryable now.
        var count = await server.Store.SearchAsync(SearchRequest.CountOnly(QueryParser.Parse("net:198.51.100.0/24").Root), ct);
        Assert.Equal(2, count.Total);
    }

    [Fact]
    public async Task Publish_ManyBatchesPipelined_AcksEveryBatchInOrder()
    {
        await using var server = await IndexerServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        var ct = Timeout(60);
        using var call = channel.DuplexStreamingCall(IngestRpc.Publish);
        const int batches = 40;
        const int perBatch = 250;

        var writer = Task.Run(async () =>
        {
            for (var b = 0; b < batches; b++)
            {
                var batch = new PublishBatch { Sequence = (ulong)(100 + b) };
                for (var i = 0; i < perBatch; i++)
                {
                    batch.Records.Add(Records.Valid($"203.0.{b}.{i + 1}", port: 443, data: $"record {b}/{i}"));
                }

                await call.RequestStream.WriteAsync(batch, ct);
            }

            await call.RequestStream.CompleteAsync();
        }, ct);

        var sequences = new List<ulong>();
        long accepted = 0;
        while (await call.ResponseStream.MoveNext(ct))
        {
            sequences.Add(call.ResponseStream.Current.Sequence);
            accepted += call.ResponseStream.Current.Accepted;
        }

        await writer;
        Assert.Equal(Enumerable.Range(100, batches).Select(i => (ulong)i), sequences);
        Assert.Equal(batches * perBatch, accepted);
        Assert.Equal(batches * perBatch, (await server.Store.GetStatsAsync(ct)).Services);
    }

    [Fact]
    public async Task Publish_ResentBatch_IsAcceptedAsDuplicatesAndStoredOnce()
    {
        await using var server = await IndexerServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        var ct = Timeout();
        var batch = new PublishBatch { Sequence = 1 };
        batch.Records.Add(Records.Valid("192.0.2.50"));
        batch.Records.Add(Records.Valid("192.0.2.51"));

        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var call = channel.DuplexStreamingCall(IngestRpc.Publish);
            await call.RequestStream.WriteAsync(batch, ct);
            await call.RequestStream.CompleteAsync();
            Assert.True(await call.ResponseStream.MoveNext(ct));
            Assert.Equal(2u, call.ResponseStream.Current.Accepted);
            Assert.Equal(attempt == 0 ? 0u : 2u, call.ResponseStream.Current.Duplicates);
            Assert.False(await call.ResponseStream.MoveNext(ct));
        }

        var stats = await server.Store.GetStatsAsync(ct);
        Assert.Equal(2, stats.Services);
        Assert.Equal(2, stats.Observations);
    }

    [Fact]
    public async Task Publish_AfterServerRestart_AcknowledgedRecordsAreStillThere()
    {
        var directory = Path.Combine(Path.GetTempPath(), "exposure-indexer-restart-" + Guid.NewGuid().ToString("N"));
        var ct = Timeout();
        await using (var server = await IndexerServer.StartAsync(directory))
        {
            using var channel = RpcChannel.ForAddress(server.Address);
            using var call = channel.DuplexStreamingCall(IngestRpc.Publish);
            var batch = new PublishBatch { Sequence = 1 };
            batch.Records.Add(Records.Valid("192.0.2.77", port: 22, data: "SSH-2.0-OpenSSH_9.2p1\r\n"));
            await call.RequestStream.WriteAsync(batch, ct);
            Assert.True(await call.ResponseStream.MoveNext(ct));
            await call.RequestStream.CompleteAsync();
            Assert.False(await call.ResponseStream.MoveNext(ct));
        }

        var reopened = Storage.Embedded.EmbeddedStore.Open(directory);
        try
        {
            var host = await reopened.GetHostAsync(System.Net.IPAddress.Parse("192.0.2.77"), history: false, ct);
            Assert.NotNull(host);
            Assert.Equal(22u, Assert.Single(host.Services).Record.Port);
        }
        finally
        {
            await reopened.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }
}
