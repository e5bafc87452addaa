using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Engine;
using ExposureIndex.Crawler.Options;
using ExposureIndex.Crawler.Publishing;
using ExposureIndex.Crawler.Tests.Support;
using ExposureIndex.TestCommon;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExposureIndex.Crawler.Tests.Publishing;

/// <summary>IndexerSink against a real in-test gRPC server (Kestrel + ExposureIndex.Rpc) on loopback.</summary>
public sealed class IndexerSinkTests
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ServiceRecord Record(string ip, uint port, string data = "SSH-2.0-x\r\n") => new()
    {
        Ip = ip,
        Port = port,
        Transport = Transport.Tcp,
        Timestamp = Timestamp.FromDateTimeOffset(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero)),
        Data = ByteString.CopyFromUtf8(data),
        Source = RecordSource.ActiveScan,
        Scanner = "exposure-crawler/test",
        Outcome = GrabOutcome.Success,
    };

    private static IndexerSink Open(IngestServer server, int window = 4, int maxBatchBytes = 4 * 1024 * 1024, TimeSpan? ackTimeout = null)
        => IndexerSink.Open(new IndexerSinkOptions(server.Address, "crawler/test", window, maxBatchBytes, ackTimeout ?? TimeSpan.FromSeconds(20)));

    [Fact]
    public async Task CompleteAsync_EveryBatchAcked_ReturnsCountsAndServerHoldsRecords()
    {
        await using var server = await IngestServer.StartAsync();
        await using var sink = Open(server);
        for (var b = 0; b < 3; b++)
        {
            await sink.WriteAsync([.. Enumerable.Range(1, 5).Select(i => Record($"8.8.{b}.{i}", 22))], Ct);
        }

        var result = await sink.CompleteAsync(Ct).AsTask().WaitAsync(TestTimeout, Ct);
        Assert.Equal(new SinkCounts(15, 15, 0), result.Counts);
        Assert.Empty(result.Rejections);
        Assert.Equal(15, server.Stored.Count);
        Assert.Equal([1UL, 2UL, 3UL], server.Batches.Select(b => b.Sequence));
        Assert.All(server.Batches, b => Assert.Equal("crawler/test", b.Producer));
    }

    [Fact]
    public async Task CompleteAsync_RejectedRecords_AreReportedWithReasonsNotRetried()
    {
        await using var server = await IngestServer.StartAsync();
        await using var sink = Open(server);
        await sink.WriteAsync([Record("8.8.8.8", 22), Record("8.8.8.8", 0), Record("not-an-ip", 80), Record("1.1.1.1", 80)], Ct);

        var result = await sink.CompleteAsync(Ct).AsTask().WaitAsync(TestTimeout, Ct);
        Assert.Equal(new SinkCounts(4, 2, 2), result.Counts);
        Assert.Equal(2, result.Rejections.Count);
        var port = result.Rejections[0];
        Assert.Equal(("8.8.8.8:0/tcp", 1UL, 1U, RejectionCode.InvalidPort, "port"), (port.Key, port.Sequence, port.Index, port.Code, port.Field));
        Assert.Equal("port 0 is outside 1-65535", port.Reason);
        Assert.Equal(("not-an-ip:80/tcp", RejectionCode.InvalidIp), (result.Rejections[1].Key, result.Rejections[1].Code));
        Assert.Single(server.Batches);
    }

    [Fact]
    public async Task WriteAsync_Window_PipelinesBatchesBeforeAcks()
    {
        // The server acks only once three batches are outstanding: a client that waited for each ack would stall.
        await using var server = await IngestServer.StartAsync(holdAcksUntil: 3);
        await using var sink = Open(server, window: 3);
        for (var b = 0; b < 6; b++)
        {
            await sink.WriteAsync([Record($"8.8.8.{b + 1}", 22)], Ct).AsTask().WaitAsync(TestTimeout, Ct);
        }

        var result = await sink.CompleteAsync(Ct).AsTask().WaitAsync(TestTimeout, Ct);
        Assert.Equal(new SinkCounts(6, 6, 0), result.Counts);
        Assert.Equal(3, server.MaxUnacked);
    }

    [Fact]
    public async Task WriteAsync_WindowFull_NeverExceedsItAndFailsWhenAcksStop()
    {
        // The server wants three outstanding batches before it acks; a window of two never gives it that.
        await using var server = await IngestServer.StartAsync(holdAcksUntil: 3);
        await using var sink = Open(server, window: 2, ackTimeout: TimeSpan.FromSeconds(1));
        await sink.WriteAsync([Record("8.8.8.1", 22)], Ct);
        await sink.WriteAsync([Record("8.8.8.2", 22)], Ct);

        var e = await Assert.ThrowsAsync<IndexerSinkException>(async () => await sink.WriteAsync([Record("8.8.8.3", 22)], Ct).AsTask().WaitAsync(TestTimeout, Ct));
        Assert.Contains("acknowledged nothing", e.Message, StringComparison.Ordinal);
        Assert.Contains("oldest unacknowledged batch 1", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, server.Batches.Count);
    }

    [Fact]
    public async Task WriteAsync_LargeWrite_IsSplitIntoSeveralBatches()
    {
        await using var server = await IngestServer.StartAsync();
        await using var sink = Open(server, maxBatchBytes: 2048);
        var banner = new string('x', 900);
        await sink.WriteAsync([.. Enumerable.Range(1, 6).Select(i => Record($"8.8.8.{i}", 80, banner))], Ct);

        var result = await sink.CompleteAsync(Ct).AsTask().WaitAsync(TestTimeout, Ct);
        Assert.Equal(new SinkCounts(6, 6, 0), result.Counts);
        Assert.Equal(3, server.Batches.Count);
        Assert.All(server.Batches, b => Assert.Equal(2, b.Records.Count));
    }

    [Fact]
    public async Task CompleteAsync_SameRecordTwice_CountsDuplicate()
    {
        await using var server = await IngestServer.StartAsync();
        await using var sink = Open(server);
        await sink.WriteAsync([Record("8.8.8.8", 22)], Ct);
        await sink.WriteAsync([Record("8.8.8.8", 22)], Ct);

        var result = await sink.CompleteAsync(Ct).AsTask().WaitAsync(TestTimeout, Ct);
        Assert.Equal(new SinkCounts(2, 2, 0), result.Counts);
        Assert.Equal(1, result.Duplicates);
    }

    [Fact]
    public async Task FlushAsync_ReturnsOnceEverythingIsAcked()
    {
        await using var server = await IngestServer.StartAsync();
        await using var sink = Open(server);
        await sink.WriteAsync([Record("8.8.8.8", 22), Record("8.8.8.9", 22)], Ct);
        var counts = await sink.FlushAsync(Ct).AsTask().WaitAsync(TestTimeout, Ct);
        Assert.Equal(new SinkCounts(2, 2, 0), counts);
        Assert.Equal(2, server.Stored.Count);
        await sink.CompleteAsync(Ct);
    }

    [Fact]
    public async Task CompleteAsync_ServerEndsCallWithError_FailsNamingTheStatus()
    {
        await using var server = await IngestServer.StartAsync(failAfterBatches: 1);
        await using var sink = Open(server);
        await sink.WriteAsync([Record("8.8.8.8", 22)], Ct);
        await sink.FlushAsync(Ct).AsTask().WaitAsync(TestTimeout, Ct);

        var e = await Assert.ThrowsAsync<IndexerSinkException>(async () =>
        {
            await sink.WriteAsync([Record("8.8.8.9", 22)], Ct);
            await sink.CompleteAsync(Ct).AsTask().WaitAsync(TestTimeout, Ct);
        });
        Assert.Contains("Unavailable", e.Message, StringComparison.Ordinal);
        Assert.Contains("indexer shutting down (test)", e.Message, StringComparison.Ordinal);
        Assert.Equal(new SinkCounts(2, 1, 0), sink.Counts);
    }

    [Theory]
    [InlineData("AckUnknownSequence", "not in flight")]
    [InlineData("AckWrongCount", "held 1 records")]
    public async Task CompleteAsync_ServerBreaksProtocol_Fails(string misbehaviour, string message)
    {
        await using var server = await IngestServer.StartAsync(misbehaviour: System.Enum.Parse<IngestMisbehaviour>(misbehaviour));
        await using var sink = Open(server);
        await sink.WriteAsync([Record("8.8.8.8", 22)], Ct);
        var e = await Assert.ThrowsAsync<IndexerSinkException>(async () => await sink.CompleteAsync(Ct).AsTask().WaitAsync(TestTimeout, Ct));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompleteAsync_NothingListening_FailsAsUnavailable()
    {
        var address = Loopback.NextAddress();
        var port = Loopback.FreeTcpPort(address);
        await using var sink = IndexerSink.Open(new IndexerSinkOptions(new Uri($"http://{address}:{port}"), "crawler/test"));
        var e = await Assert.ThrowsAsync<IndexerSinkException>(async () =>
        {
            await sink.WriteAsync([Record("8.8.8.8", 22)], Ct);
            await sink.CompleteAsync(Ct).AsTask().WaitAsync(TestTimeout, Ct);
        });
        Assert.Contains("Unavailable", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Crawl_ToIndexer_PublishesEveryOpenPortAndCompletesOnAcks()
    {
        await using var server = await IngestServer.StartAsync(holdAcksUntil: 2);
        await using var ssh = LoopbackServer.TalkFirst("SSH-2.0-OpenSSH_9.6\r\n");
        await using var ftp = LoopbackServer.TalkFirst("220 (vsFTPd 3.0.3)\r\n");
        var options = new CrawlOptions
        {
            Targets = [ssh.Address.ToString(), ftp.Address.ToString()],
            Ports = $"{ssh.Port},{ftp.Port}",
            AllowLoopback = true,
            Concurrency = 4,
            ConnectTimeout = TimeSpan.FromSeconds(2),
            BannerWait = TimeSpan.FromMilliseconds(300),
            ReadTimeout = TimeSpan.FromMilliseconds(300),
            TargetDeadline = TimeSpan.FromSeconds(3),
            BatchSize = 1,
            IndexerUrl = server.Address,
            Producer = "crawler/test",
            MaxInFlightBatches = 2,
            ScanId = "indexer-scan",
        };
        Assert.Empty(CrawlOptionsValidator.Validate(options));

        CrawlSummary summary;
        await using (var sink = RecordSinks.Open(options))
        {
            summary = await new CrawlRunner().RunAsync(options, sink, null, Ct).WaitAsync(TestTimeout, Ct);
        }

        Assert.Equal(2, summary.Open);
        Assert.Equal(2, summary.RecordsWritten);
        Assert.Equal(2, summary.RecordsAcknowledged);
        Assert.Equal(0, summary.RecordsRejected);
        Assert.StartsWith("indexer:http://", summary.Sink, StringComparison.Ordinal);
        Assert.Equal(["ftp", "ssh"], server.Stored.Select(r => r.Module).Order());
        Assert.All(server.Stored, r => Assert.Equal("indexer-scan", r.ScanId));
        Assert.Equal(2, server.Batches.Count);
    }
}
