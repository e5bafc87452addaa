using System.Diagnostics;
using System.Globalization;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Rpc.Client;
using ExposureIndex.Rpc.Core;
using ExposureIndex.Rpc.Server;
using ExposureIndex.Rpc.Services;
using ExposureIndex.Rpc.Tests.Conformance;
using ExposureIndex.Rpc.Tests.EndToEnd;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExposureIndex.Rpc.Tests.Performance;

/// <summary>
/// Ad-hoc loopback throughput runs; explicit, so a normal test run skips them. Run in Release:
/// <c>dotnet build -c Release tests/ExposureIndex.Rpc.Tests &amp;&amp;
/// tests/ExposureIndex.Rpc.Tests/bin/Release/net10.0/ExposureIndex.Rpc.Tests -class "*ThroughputBenchmark" -explicit only</c>.
/// Results go to the test output; they assert correctness (every record acked), never timing.
/// </summary>
public sealed class ThroughputBenchmark
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(3);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Explicit = true)]
    public async Task IngestPublish_BatchesOf1000Records_Throughput()
    {
        const int batches = 400;
        const int recordsPerBatch = 1000;
        const int window = 4;
        await using var server = await TestServer.StartAsync(extra: app => app.MapRpcDuplex(IngestRpc.Publish, async (requests, acks, context) =>
        {
            await foreach (var batch in requests.ReadAllAsync(context.CancellationToken))
            {
                await acks.WriteAsync(new PublishAck { Sequence = batch.Sequence, Accepted = (uint)batch.Records.Count }, context.CancellationToken);
            }
        }));
        using var channel = RpcChannel.ForAddress(server.Address);

        // Pre-built batches: the run measures the transport and protobuf, not record generation.
        var prepared = Enumerable.Range(0, 8).Select(i => MakeBatch(recordsPerBatch, i)).ToArray();
        var recordSize = prepared[0].Records[0].CalculateSize();

        await RunIngestAsync(channel, prepared, 20, window); // warm-up
        var clock = Stopwatch.StartNew();
        var acked = await RunIngestAsync(channel, prepared, batches, window);
        clock.Stop();

        Assert.Equal((long)batches * recordsPerBatch, acked);
        var seconds = clock.Elapsed.TotalSeconds;
        var bytes = (double)prepared[0].CalculateSize() * batches;
        Report($"Ingest Publish: {batches} batches x {recordsPerBatch} records (~{recordSize} B/record, {prepared[0].CalculateSize() / 1024} KiB/batch), window {window}: " +
               $"{acked / seconds:N0} records/s, {batches / seconds:N0} batches/s, {bytes / seconds / 1e6:N1} MB/s, {clock.Elapsed.TotalMilliseconds:N0} ms");
    }

    [Fact(Explicit = true)]
    public void ProtobufOnly_BatchesOf1000Records_Baseline()
    {
        // The same batches serialized into a pooled buffer and parsed back, without any transport:
        // the floor the transport numbers above should be compared with.
        const int batches = 400;
        var prepared = Enumerable.Range(0, 8).Select(i => MakeBatch(1000, i)).ToArray();
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1 << 20);
        long records = 0;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < batches; i++)
        {
            buffer.ResetWrittenCount();
            prepared[i % prepared.Length].WriteTo(buffer);
            records += PublishBatch.Parser.ParseFrom(buffer.WrittenSpan).Records.Count;
        }

        clock.Stop();
        Assert.Equal(400_000, records);
        Report($"Protobuf only (serialize + parse, one thread): {records / clock.Elapsed.TotalSeconds:N0} records/s, {clock.Elapsed.TotalMilliseconds:N0} ms");

        var sizeClock = Stopwatch.StartNew();
        long size = 0;
        for (var i = 0; i < batches; i++)
        {
            size += prepared[i % prepared.Length].CalculateSize();
        }

        sizeClock.Stop();
        var writeClock = Stopwatch.StartNew();
        for (var i = 0; i < batches; i++)
        {
            buffer.ResetWrittenCount();
            prepared[i % prepared.Length].WriteTo(buffer);
        }

        writeClock.Stop();
        var parseClock = Stopwatch.StartNew();
        for (var i = 0; i < batches; i++)
        {
            records += PublishBatch.Parser.ParseFrom(buffer.WrittenSpan).Records.Count;
        }

        parseClock.Stop();
        Report($"Per batch: CalculateSize {sizeClock.Elapsed.TotalMilliseconds / batches:N3} ms, WriteTo {writeClock.Elapsed.TotalMilliseconds / batches:N3} ms, ParseFrom {parseClock.Elapsed.TotalMilliseconds / batches:N3} ms ({size / batches} bytes)");
    }

    [Fact(Explicit = true)]
    public async Task Duplex_SmallMessages_Throughput()
    {
        const int count = 300_000;
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);
        var request = new EchoRequest { Text = "m", Payload = ByteString.CopyFrom(new byte[100]) };

        await RunEchoAsync(channel, request, 20_000); // warm-up
        var clock = Stopwatch.StartNew();
        var received = await RunEchoAsync(channel, request, count);
        clock.Stop();

        Assert.Equal(count, received);
        var seconds = clock.Elapsed.TotalSeconds;
        var framed = request.CalculateSize() + 5;
        Report($"Duplex echo: {count} messages of {framed} B each way: {count / seconds:N0} messages/s each way, " +
               $"{2.0 * count * framed / seconds / 1e6:N1} MB/s total, {clock.Elapsed.TotalMilliseconds:N0} ms");
    }

    [Fact(Explicit = true)]
    public async Task ServerStreaming_SmallMessages_Throughput()
    {
        const int count = 500_000;
        await using var server = await TestServer.StartAsync();
        using var channel = RpcChannel.ForAddress(server.Address);

        var clock = Stopwatch.StartNew();
        using var call = channel.ServerStreamingCall(EchoMethods.Expand, new EchoRequest { Repeat = count, ReplySize = 100 });
        var received = 0;
        while (await call.ResponseStream.MoveNext(Ct))
        {
            received++;
        }

        clock.Stop();
        Assert.Equal(count, received);
        Report($"Server streaming: {count} messages of ~110 B: {count / clock.Elapsed.TotalSeconds:N0} messages/s, {clock.Elapsed.TotalMilliseconds:N0} ms");
    }

    private static async Task<long> RunIngestAsync(RpcChannel channel, PublishBatch[] prepared, int batches, int window)
    {
        using var call = channel.DuplexStreamingCall(IngestRpc.Publish, new CallOptions(Deadline: DateTime.UtcNow + Bound));
        using var slots = new SemaphoreSlim(window);
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < batches; i++)
            {
                await slots.WaitAsync(Ct);
                var batch = prepared[i % prepared.Length];
                batch.Sequence = (ulong)i;
                await call.RequestStream.WriteAsync(batch, Ct);
            }

            await call.RequestStream.CompleteAsync();
        }, Ct);

        long acked = 0;
        while (await call.ResponseStream.MoveNext(Ct))
        {
            acked += call.ResponseStream.Current.Accepted;
            slots.Release();
        }

        await writer;
        return acked;
    }

    private static async Task<int> RunEchoAsync(RpcChannel channel, EchoRequest request, int count)
    {
        using var call = channel.DuplexStreamingCall(EchoMethods.Chat, new CallOptions(Deadline: DateTime.UtcNow + Bound));
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < count; i++)
            {
                await call.RequestStream.WriteAsync(request, Ct);
            }

            await call.RequestStream.CompleteAsync();
        }, Ct);

        var received = 0;
        while (await call.ResponseStream.MoveNext(Ct))
        {
            received++;
        }

        await writer;
        return received;
    }

    private static PublishBatch MakeBatch(int records, int seed)
    {
        var random = new Random(seed);
        var batch = new PublishBatch { Producer = "bench/shard-0" };
        var banner = new byte[180];
        for (var i = 0; i < records; i++)
        {
            random.NextBytes(banner);
            batch.Records.Add(new ServiceRecord
            {
                Ip = string.Create(CultureInfo.InvariantCulture, $"198.51.{random.Next(256)}.{random.Next(256)}"),
                Port = (uint)random.Next(1, 65536),
                Transport = Transport.Tcp,
                Timestamp = Timestamp.FromDateTime(DateTime.UtcNow),
                Data = ByteString.CopyFrom(banner),
                Product = "nginx",
                Version = "1.25.3",
                Cpe23 = { "cpe:2.3:a:f5:nginx:1.25.3:*:*:*:*:*:*:*" },
                Source = RecordSource.ActiveScan,
                Module = "http",
                Tags = { "cloud" },
                Hostnames = { string.Create(CultureInfo.InvariantCulture, $"host-{i}.example.net") },
                Outcome = GrabOutcome.Success,
                Scanner = "exposure-crawler/0",
                ScanId = "scan-2024-06-11",
            });
        }

        return batch;
    }

    private static void Report(string line)
    {
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        Console.WriteLine(line);
    }
}
