using ExposureIndex.Query;
using ExposureIndex.Storage.Embedded;
using ExposureIndex.Storage.Tests.Conformance;

namespace ExposureIndex.Storage.Tests.Embedded;

public sealed class EmbeddedStoreDurabilityTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "exposure-durability-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Open_AfterDispose_ReplaysEverythingAcknowledged()
    {
        await using (var store = EmbeddedStore.Open(_directory))
        {
            await store.IngestAsync(ConformanceFixtures.All(), TestContext.Current.CancellationToken);
            var newer = ConformanceFixtures.Record("1.1.1.1", 22, "SSH-2.0-OpenSSH_9.6p1\r\n", "OpenSSH", "9.6p1", at: ConformanceFixtures.T0.AddDays(1));
            await store.IngestAsync([newer], TestContext.Current.CancellationToken);
        }

        await using var reopened = EmbeddedStore.Open(_directory);
        var stats = await reopened.GetStatsAsync(TestContext.Current.CancellationToken);
        Assert.Equal(10, stats.Services);
        Assert.Equal(11, stats.Observations);
        Assert.Equal(11, stats.Changes);
        Assert.Equal(1, await CountAsync(reopened, "version:9.6p1"));
        Assert.Equal(0, await CountAsync(reopened, "version:9.2p1"));
        Assert.Equal(2, await CountAsync(reopened, "nginx"));

        // Idempotency survives a restart: the identity of every stored observation is known again.
        var again = await reopened.IngestAsync(ConformanceFixtures.All(), TestContext.Current.CancellationToken);
        Assert.All(again.Dispositions, d => Assert.Equal(IngestDisposition.Duplicate, d));
    }

    [Fact]
    public async Task Ingest_AFailureInsideTheStore_AnswersEveryBatchAndStopsWrites()
    {
        // The Indexer validates records first; a record the store cannot process must still never leave a caller
        // waiting: the batch fails, the store stops taking writes, and what was acknowledged before survives.
        var ct = TestContext.Current.CancellationToken;
        var timeout = TimeSpan.FromSeconds(30);
        await using (var store = EmbeddedStore.Open(_directory))
        {
            await store.IngestAsync(ConformanceFixtures.All(), ct).WaitAsync(timeout, ct);
            var broken = ConformanceFixtures.Record("1.1.1.1", 22, "SSH-2.0-x\r\n", "OpenSSH", "1", at: ConformanceFixtures.T0.AddDays(2));
            broken.Ip = "not-an-address";

            var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => store.IngestAsync([broken], ct).WaitAsync(timeout, ct));
            Assert.Contains("FormatException", failure.Message, StringComparison.Ordinal);
            Assert.Contains("restart to recover from its log", failure.Message, StringComparison.Ordinal);

            var later = ConformanceFixtures.Record("2.2.2.2", 80, "HTTP/1.1 200 OK\r\n", "nginx", "1", at: ConformanceFixtures.T0.AddDays(2));
            var stopped = await Assert.ThrowsAsync<InvalidOperationException>(() => store.IngestAsync([later], ct).WaitAsync(timeout, ct));
            Assert.Contains("stopped", stopped.Message, StringComparison.Ordinal);
        }

        await using var reopened = EmbeddedStore.Open(_directory);
        Assert.Equal(10, (await reopened.GetStatsAsync(ct)).Services);
    }

    [Fact]
    public async Task Ingest_AFailureInTheIndexStage_AnswersTheBatchKeepsItInTheLogAndStopsTheStore()
    {
        // Stage 2 fails after stage 1 committed the batch: the caller gets an error (so a crawler resends), the
        // store refuses everything until a restart, and the restart finds the batch in the log, so the resend
        // is a duplicate rather than a second observation.
        var ct = TestContext.Current.CancellationToken;
        var timeout = TimeSpan.FromSeconds(30);
        var late = ConformanceFixtures.Record("3.3.3.3", 8080, "HTTP/1.1 200 OK\r\nServer: injected\r\n", "nginx", "1", at: ConformanceFixtures.T0.AddDays(2));
        await using (var store = EmbeddedStore.Open(_directory))
        {
            await store.IngestAsync(ConformanceFixtures.All(), ct).WaitAsync(timeout, ct);
            var calls = 0;
            store.FaultInjection = point =>
            {
                if (point == EmbeddedStore.FaultPoint.IndexApply)
                {
                    calls++;
                    throw new IOException("injected index failure");
                }
            };

            var failure = await Assert.ThrowsAsync<IOException>(() => store.IngestAsync([late], ct).WaitAsync(timeout, ct));
            Assert.Equal("injected index failure", failure.Message);
            Assert.Equal(1, calls);
            store.FaultInjection = null;

            var stopped = await Assert.ThrowsAsync<InvalidOperationException>(() => store.IngestAsync([ConformanceFixtures.Record("4.4.4.4", 80, "x")], ct));
            Assert.Contains("stopped after a failure (IOException: injected index failure)", stopped.Message, StringComparison.Ordinal);
            Assert.Contains("restart to recover from its log", stopped.Message, StringComparison.Ordinal);
            var query = await Assert.ThrowsAsync<InvalidOperationException>(() => CountAsync(store, "nginx"));
            Assert.Contains("restart to recover", query.Message, StringComparison.Ordinal);
        }

        await using var reopened = EmbeddedStore.Open(_directory);
        Assert.Equal(11, (await reopened.GetStatsAsync(ct)).Services);
        Assert.Equal(1, await CountAsync(reopened, "port:8080 injected"));
        var resent = await reopened.IngestAsync([late], ct).WaitAsync(timeout, ct);
        Assert.Equal([IngestDisposition.Duplicate], resent.Dispositions);
        Assert.Equal(0, await CountAsync(reopened, "port:4444"));
    }

    [Fact]
    public async Task Compaction_AFailure_KeepsAcknowledgedRecordsAndStopsTheStore()
    {
        // The rebuild runs after a group was acknowledged. Its failure loses nothing: the acknowledged batch is in
        // the log, and the store stops rather than index on top of a half-known state.
        var ct = TestContext.Current.CancellationToken;
        var timeout = TimeSpan.FromSeconds(60);
        const int services = 40_000;
        var rounds = Enumerable.Range(0, 3).Select(round => Enumerable.Range(0, services)
            .Select(i => ConformanceFixtures.Record($"7.{i / 65536}.{(i / 256) % 256}.{i % 256}", 80, $"round {round}", "nginx", $"1.{round}", at: ConformanceFixtures.T0.AddHours(round)))
            .ToList()).ToList();
        await using (var store = EmbeddedStore.Open(_directory))
        {
            var compactions = 0;
            store.FaultInjection = point =>
            {
                if (point == EmbeddedStore.FaultPoint.Compact)
                {
                    Interlocked.Increment(ref compactions);
                    throw new IOException("injected compaction failure");
                }
            };

            await store.IngestAsync(rounds[0], ct).WaitAsync(timeout, ct);
            await store.IngestAsync(rounds[1], ct).WaitAsync(timeout, ct); // 80,000 rows, half dead: compacts

            // The failure comes after the acknowledgement, so wait (bounded) for the store to stop.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var stopped = false;
            while (!stopped && clock.Elapsed < timeout)
            {
                try
                {
                    await store.GetStatsAsync(ct);
                    await Task.Delay(20, ct);
                }
                catch (InvalidOperationException ex) when (ex.Message.Contains("injected compaction failure", StringComparison.Ordinal))
                {
                    stopped = true;
                }
            }

            Assert.True(stopped, "the store should stop after the compaction failed");
            Assert.Equal(1, Volatile.Read(ref compactions));
            await Assert.ThrowsAsync<InvalidOperationException>(() => store.IngestAsync(rounds[2], ct));
        }

        await using var reopened = EmbeddedStore.Open(_directory);
        Assert.Equal(services, (await reopened.GetStatsAsync(ct)).Services);
        Assert.Equal(services, await CountAsync(reopened, "version:1.1"));
        Assert.Equal(0, await CountAsync(reopened, "version:1.2"));
    }

    [Fact]
    public async Task Open_TornTail_KeepsCommittedFramesAndDropsTheTail()
    {
        await using (var store = EmbeddedStore.Open(_directory))
        {
            await store.IngestAsync(ConformanceFixtures.All(), TestContext.Current.CancellationToken);
        }

        var segment = Directory.GetFiles(Path.Combine(_directory, "log"), "seg-*.log").Single();
        var committed = new FileInfo(segment).Length;

        // A crash mid-append leaves half a frame: a length that promises more bytes than follow.
        await using (var stream = new FileStream(segment, FileMode.Append))
        {
            stream.Write([200, 1, 0, 0, 9, 9, 9, 9, 1, 2, 3]);
        }

        await using (var reopened = EmbeddedStore.Open(_directory))
        {
            Assert.Equal(10, (await reopened.GetStatsAsync(TestContext.Current.CancellationToken)).Services);
            Assert.Equal(committed, new FileInfo(segment).Length);
            var more = ConformanceFixtures.Record("5.5.5.5", 80, "HTTP/1.0 200 OK\r\n\r\n");
            await reopened.IngestAsync([more], TestContext.Current.CancellationToken);
        }

        await using var third = EmbeddedStore.Open(_directory);
        Assert.Equal(11, (await third.GetStatsAsync(TestContext.Current.CancellationToken)).Services);
    }

    [Fact]
    public async Task Open_CorruptFrameBeforeTheTail_FailsNamingSegmentAndOffset()
    {
        await using (var store = EmbeddedStore.Open(_directory, segmentBytes: 4096))
        {
            foreach (var record in ConformanceFixtures.All())
            {
                await store.IngestAsync([record], TestContext.Current.CancellationToken);
            }

            var filler = Enumerable.Range(1, 40).Select(i => ConformanceFixtures.Record($"5.5.5.{i}", 80, new string('x', 200))).ToList();
            await store.IngestAsync(filler, TestContext.Current.CancellationToken);
        }

        var segments = Directory.GetFiles(Path.Combine(_directory, "log"), "seg-*.log").Order().ToList();
        Assert.True(segments.Count > 1);
        var bytes = await File.ReadAllBytesAsync(segments[0], TestContext.Current.CancellationToken);
        bytes[40] ^= 0xFF;
        await File.WriteAllBytesAsync(segments[0], bytes, TestContext.Current.CancellationToken);

        var error = Assert.Throws<StoreCorruptException>(() => EmbeddedStore.Open(_directory));
        Assert.Contains("seg-000001.log", error.Message, StringComparison.Ordinal);
        Assert.Contains("offset", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_ConcurrentBatches_AllCommitAndCountOnce()
    {
        await using var store = EmbeddedStore.Open(_directory);
        var tasks = Enumerable.Range(0, 16).Select(i =>
        {
            var batch = Enumerable.Range(0, 50).Select(j => ConformanceFixtures.Record($"6.6.{i}.{j + 1}", 443, $"batch {i} row {j}")).ToList();
            return store.IngestAsync(batch, TestContext.Current.CancellationToken);
        }).ToList();
        await Task.WhenAll(tasks);
        Assert.Equal(800, (await store.GetStatsAsync(TestContext.Current.CancellationToken)).Services);
        Assert.Equal(800, await CountAsync(store, "port:443"));
        Assert.Equal(50, await CountAsync(store, "net:6.6.3.0/24"));
    }

    [Fact]
    public async Task Compaction_ManyUpdates_KeepsAnswersAndShrinksRows()
    {
        await using var store = EmbeddedStore.Open(_directory);
        const int services = 40_000;
        for (var round = 0; round < 3; round++)
        {
            var batch = Enumerable.Range(0, services)
                .Select(i => ConformanceFixtures.Record($"7.{i / 65536}.{(i / 256) % 256}.{i % 256}", 80, $"round {round}", "nginx", $"1.{round}", at: ConformanceFixtures.T0.AddHours(round)))
                .ToList();
            await store.IngestAsync(batch, TestContext.Current.CancellationToken);
        }

        var stats = await store.GetStatsAsync(TestContext.Current.CancellationToken);
        Assert.Equal(services, stats.Services);
        Assert.True(int.Parse(stats.Details["rows"], System.Globalization.CultureInfo.InvariantCulture) < 3 * services, "tombstoned rows should have been compacted away");
        Assert.Equal(services, await CountAsync(store, "version:1.2"));
        Assert.Equal(0, await CountAsync(store, "version:1.1"));
        Assert.Equal(services, await CountAsync(store, "round 2"));
    }

    private static async Task<long> CountAsync(IExposureStore store, string query)
        => (await store.SearchAsync(SearchRequest.CountOnly(QueryParser.Parse(query).Root), TestContext.Current.CancellationToken)).Total;
}
