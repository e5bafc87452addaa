using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Publishing;
using ExposureIndex.TestCommon;
using Polly.CircuitBreaker;

namespace ExposureIndex.Crawler.Tests.Publishing;

/// <summary>
/// Delivery without loss against a real gRPC Indexer on loopback (Kestrel + ExposureIndex.Rpc) that is down,
/// killed mid-stream and restarted: every record ends up stored, none twice in the store, and resends are
/// acknowledged as duplicates.
/// </summary>
public sealed class ResilientSinkTests : IDisposable
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(60);
    private readonly string _spool = Directory.CreateTempSubdirectory("exposure-resilient-").FullName;

    public void Dispose() => Directory.Delete(_spool, recursive: true);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ResilientSinkOptions Options => new()
    {
        SpoolDirectory = _spool,
        MaxMemoryBatches = 16,
        BatchesPerDelivery = 4,
        RetryBaseDelay = TimeSpan.FromMilliseconds(20),
        RetryMaxDelay = TimeSpan.FromMilliseconds(300),
        BreakerSamplingDuration = TimeSpan.FromSeconds(1),
        BreakerMinimumThroughput = 2,
        BreakDuration = TimeSpan.FromMilliseconds(500),
        AttemptTimeout = TimeSpan.FromSeconds(10),
        BackpressureWait = TimeSpan.FromSeconds(2),
    };

    private ResilientSink Open(RestartableIndexer indexer)
        => ResilientSink.ForIndexer(new IndexerSinkOptions(indexer.Address, "crawler/test", 4, AckTimeout: TimeSpan.FromSeconds(10)), Options);

    private static List<ServiceRecord> Batch(int first, int count) => [.. Enumerable.Range(first, count).Select(DiskSpoolTests.Record)];

    private static void AssertEveryRecordStored(RestartableIndexer indexer, int total)
    {
        var missing = Enumerable.Range(0, total).Select(DiskSpoolTests.Record).Where(r => !indexer.Stored.ContainsKey(RecordIdentity.Compute(r))).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {total} records never reached the Indexer, first {missing.FirstOrDefault()?.Ip}");
        Assert.Equal(total, indexer.Stored.Count);
    }

    [Fact]
    public async Task CompleteAsync_HealthyIndexer_DeliversEverythingWithoutSpooling()
    {
        await using var indexer = RestartableIndexer.Create();
        await indexer.StartAsync();
        await using var sink = Open(indexer);
        for (var b = 0; b < 20; b++)
        {
            await sink.WriteAsync(Batch(b * 10, 10), Ct);
        }

        var result = await sink.CompleteAsync(Ct).AsTask().WaitAsync(TestTimeout, Ct);
        Assert.Equal(new SinkCounts(200, 200, 0), result.Counts);
        Assert.Equal(0, result.Duplicates);
        Assert.Equal(0, sink.SpooledBatches);
        AssertEveryRecordStored(indexer, 200);
    }

    [Fact]
    public async Task CompleteAsync_IndexerDownThenUp_SpoolsAndReplaysInOrder()
    {
        await using var indexer = RestartableIndexer.Create();
        await using var sink = Open(indexer);
        for (var b = 0; b < 10; b++)
        {
            await sink.WriteAsync(Batch(b * 5, 5), Ct).AsTask().WaitAsync(TestTimeout, Ct);
        }

        // The barrier returns although nothing is acknowledged: everything is safe on disk.
        var counts = await sink.FlushAsync(Ct).AsTask().WaitAsync(TestTimeout, Ct);
        Assert.Equal(50, counts.Written);
        Assert.Equal(0, counts.Acknowledged);
        Assert.Equal(50, sink.SpooledRecords);

        await indexer.StartAsync();
        var result = await sink.CompleteAsync(Ct).AsTask().WaitAsync(TestTimeout, Ct);
        Assert.Equal(new SinkCounts(50, 50, 0), result.Counts);
        Assert.Equal(0, sink.SpooledRecords);
        AssertEveryRecordStored(indexer, 50);
        Assert.True(sink.FailedDeliveries > 0);
    }

    [Fact]
    public async Task WriteAsync_IndexerKilledMidStreamAndRestarted_LosesNothingAndCountsDuplicates()
    {
        await using var indexer = RestartableIndexer.Create();
        await indexer.StartAsync();
        indexer.KillAfterBatches = 7;
        await using var sink = Open(indexer);
        using var restarter = new CancellationTokenSource(TestTimeout);
        var restart = Task.Run(async () =>
        {
            await indexer.Killed.Task.WaitAsync(restarter.Token);
            // Down for a while: the breaker opens and the spool takes the traffic.
            await Poll.UntilAsync(() => sink.SpooledBatches > 0, TimeSpan.FromSeconds(30), Ct);
            await indexer.StartAsync();
        }, Ct);

        const int batches = 120;
        for (var b = 0; b < batches; b++)
        {
            await sink.WriteAsync(Batch(b * 10, 10), Ct).AsTask().WaitAsync(TestTimeout, Ct);
        }

        await restart.WaitAsync(TestTimeout, Ct);
        var result = await sink.CompleteAsync(Ct).AsTask().WaitAsync(TestTimeout, Ct);

        AssertEveryRecordStored(indexer, batches * 10);
        Assert.Equal(batches * 10, result.Counts.Written);
        // Every record is acknowledged exactly once by a successful delivery; the batches stored as the Indexer died
        // (their acks died with it) were resent and acknowledged as duplicates.
        Assert.Equal(result.Counts.Written, result.Counts.Acknowledged);
        Assert.True(result.Duplicates >= 10, $"expected the batch whose ack was lost to come back as duplicates, got {result.Duplicates}");
        Assert.Equal(indexer.Duplicates, result.Duplicates);
        Assert.True(sink.SpooledBatches > 0);
        Assert.Equal(0, sink.SpooledRecords);
    }

    [Fact]
    public async Task CompleteAsync_IndexerStaysDown_ThrowsAndTheNextRunReplaysTheSpool()
    {
        await using var indexer = RestartableIndexer.Create();
        await using (var sink = Open(indexer))
        {
            for (var b = 0; b < 6; b++)
            {
                await sink.WriteAsync(Batch(b * 4, 4), Ct).AsTask().WaitAsync(TestTimeout, Ct);
            }

            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            var e = await Assert.ThrowsAsync<SpoolNotDrainedException>(() => sink.CompleteAsync(deadline.Token).AsTask().WaitAsync(TestTimeout, Ct));
            Assert.Equal(24, e.PendingRecords);
            Assert.Contains(_spool, e.Message, StringComparison.Ordinal);
            Assert.Equal(0, sink.Counts.Acknowledged);
        }

        await indexer.StartAsync();
        await using var next = Open(indexer);
        await next.WriteAsync(Batch(24, 4), Ct);
        var result = await next.CompleteAsync(Ct).AsTask().WaitAsync(TestTimeout, Ct);
        // The earlier run's 24 are replayed first, then this run's 4.
        Assert.Equal(28, result.Counts.Acknowledged);
        AssertEveryRecordStored(indexer, 28);
    }

    [Fact]
    public async Task DisposeAsync_WithoutComplete_SpoolsWhatMemoryHeld()
    {
        await using var indexer = RestartableIndexer.Create();
        await using (var sink = Open(indexer))
        {
            await sink.WriteAsync(Batch(0, 3), Ct);
        }

        using var reopened = DiskSpool.Open(_spool);
        Assert.Equal(3, reopened.PendingRecords);
    }

    [Fact]
    public async Task WriteAsync_BreakerOpen_GoesStraightToTheSpool()
    {
        await using var indexer = RestartableIndexer.Create();
        await using var sink = Open(indexer);
        await sink.WriteAsync(Batch(0, 2), Ct);
        Assert.True(await Poll.UntilAsync(() => sink.BreakerState == CircuitState.Open, TimeSpan.FromSeconds(30), Ct), "the breaker never opened");
        var spooledBefore = sink.SpooledBatches;
        await sink.WriteAsync(Batch(2, 2), Ct);
        Assert.Equal(spooledBefore + 1, sink.SpooledBatches);
    }
}
