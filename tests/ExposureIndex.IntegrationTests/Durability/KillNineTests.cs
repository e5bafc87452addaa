using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Query;
using ExposureIndex.Rpc.Client;
using ExposureIndex.Rpc.Services;
using ExposureIndex.Storage;
using ExposureIndex.Storage.Embedded;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExposureIndex.IntegrationTests.Durability;

/// <summary>
/// Issue 5, durability: a batch is acknowledged only when committed, so a `kill -9` of the serving process at any
/// moment loses no acknowledged record. The real `exposure serve` runs as a child process; the test publishes
/// over gRPC, SIGKILLs it mid-stream at several points, restarts it on the same data, and checks every
/// acknowledged record is there.
/// </summary>
public sealed partial class KillNineTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "exposure-kill9-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    [Fact]
    public async Task KillNine_MidIngest_LosesNoAcknowledgedRecord()
    {
        var acknowledged = new List<ServiceRecord>();
        var random = new Random(5150);
        for (var round = 0; round < 3; round++)
        {
            using var server = await ServeProcess.StartAsync(_data);
            var killAfterAcks = 5 + random.Next(25);
            acknowledged.AddRange(await PublishUntilKilledAsync(server, round, killAfterAcks));
        }

        await using var store = EmbeddedStore.Open(_data);
        var stats = await store.GetStatsAsync(TestContext.Current.CancellationToken);
        Assert.True(stats.Services >= acknowledged.Count, $"{stats.Services} stored < {acknowledged.Count} acknowledged");
        foreach (var chunk in acknowledged.Chunk(200))
        {
            // Each record has its own address; look them up with one OR-list query per chunk.
            var query = QueryParser.Parse("ip:" + string.Join(',', chunk.Select(r => r.Ip)));
            var found = await store.SearchAsync(SearchRequest.CountOnly(query.Root), TestContext.Current.CancellationToken);
            Assert.Equal(chunk.Length, found.Total);
        }
    }

    private static async Task<List<ServiceRecord>> PublishUntilKilledAsync(ServeProcess server, int round, int killAfterAcks)
    {
        using var channel = RpcChannel.ForAddress(server.GrpcUrl);
        using var call = channel.DuplexStreamingCall(IngestRpc.Publish);
        var sent = new Dictionary<ulong, List<ServiceRecord>>();
        var acked = new List<ServiceRecord>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var writer = Task.Run(async () =>
        {
            try
            {
                for (ulong sequence = 1; sequence <= 10_000 && !stop.IsCancellationRequested; sequence++)
                {
                    var batch = new PublishBatch { Sequence = sequence, Producer = "kill9" };
                    for (var i = 0; i < 200; i++)
                    {
                        var n = (round * 10_000_000) + ((int)sequence * 1000) + i;
                        batch.Records.Add(new ServiceRecord
                        {
                            Ip = $"{10 + (n >> 24 & 0x3F)}.{n >> 16 & 0xFF}.{n >> 8 & 0xFF}.{n & 0xFF}",
                            Port = 443,
                            Transport = Transport.Tcp,
                            Timestamp = Timestamp.FromDateTime(new DateTime(2026, 6, 1, 0, 0, 0, DateTimeKind.Utc)),
                            Data = ByteString.CopyFromUtf8($"kill9 round {round} batch {sequence} record {i}"),
                            Source = RecordSource.ActiveScan,
                        });
                    }

                    lock (sent)
                    {
                        sent[sequence] = [.. batch.Records];
                    }

                    await call.RequestStream.WriteAsync(batch, stop.Token);
                }
            }
            catch (Exception ex) when (ex is Rpc.Core.RpcException or OperationCanceledException or IOException or InvalidOperationException)
            {
                // The server died under us: expected.
            }
        }, stop.Token);

        var acks = 0;
        try
        {
            while (await call.ResponseStream.MoveNext(stop.Token))
            {
                var ack = call.ResponseStream.Current;
                Assert.Equal(0u, ack.Rejected);
                lock (sent)
                {
                    acked.AddRange(sent[ack.Sequence]);
                }

                if (++acks == killAfterAcks)
                {
                    server.KillNine();
                }
            }
        }
        catch (Exception ex) when (ex is Rpc.Core.RpcException or IOException or OperationCanceledException)
        {
            // The stream breaks when the process dies; what was acknowledged before that is what counts.
        }

        await stop.CancelAsync();
        await Task.WhenAny(writer, Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        Assert.True(server.Killed, "the server should have been killed mid-stream");
        Assert.True(acks >= killAfterAcks, $"only {acks} acknowledgements before the stream ended");
        return acked;
    }

    /// <summary>`exposure serve` as a child process, on ports it chose itself (printed on stdout).</summary>
    private sealed partial class ServeProcess : IDisposable
    {
        private readonly Process _process;

        private ServeProcess(Process process, Uri grpcUrl)
        {
            _process = process;
            GrpcUrl = grpcUrl;
        }

        public Uri GrpcUrl { get; }

        public bool Killed { get; private set; }

        public static async Task<ServeProcess> StartAsync(string data)
        {
            var cli = Path.Combine(AppContext.BaseDirectory, "exposure.dll");
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in (string[])["exec", cli, "serve", "--data", data, "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--api-key", "kill9-key-0123456789"])
            {
                start.ArgumentList.Add(arg);
            }

            var process = Process.Start(start)!;
            _ = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (true)
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
                    ?? throw new InvalidOperationException("exposure serve exited before printing its ingest address");
                var match = IngestLine().Match(line);
                if (match.Success)
                {
                    var url = new Uri(match.Groups[1].Value);
                    Assert.True(IPAddress.IsLoopback(IPAddress.Parse(url.Host)));
                    _ = process.StandardOutput.ReadToEndAsync();
                    return new ServeProcess(process, url);
                }
            }
        }

        public void KillNine()
        {
            // Process.Kill sends SIGKILL on Unix: no shutdown hooks, no flush - the crash we promise to survive.
            _process.Kill(entireProcessTree: false);
            Killed = true;
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }

            _process.WaitForExit(10_000);
            _process.Dispose();
        }

        [GeneratedRegex(@"^ingest\s+(http://\S+)")]
        private static partial Regex IngestLine();
    }
}
