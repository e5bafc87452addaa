using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using ExposureIndex.Bench.Echo;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Rpc.Client;
using ExposureIndex.Rpc.Core;
using ExposureIndex.Rpc.Server;
using ExposureIndex.Rpc.Services;
using ExposureIndex.TestCommon;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Bench;

/// <summary>
/// bench/rpc: our gRPC transport over loopback (our client -> our Kestrel server, Http2-only on 127.0.0.1:0):
/// Ingest Publish batches of 1,000 records, a duplex echo of small messages and server streaming of small
/// messages. Each figure is a ratio to the protobuf-only rate of the same messages (serialize + parse on one
/// thread, no transport), measured in the same run before and after; and, for the echo and the stream, to
/// Debian's python3-grpcio talking to itself with the same message bytes when it is installed.
/// </summary>
internal static class RpcBench
{
    private const int RecordsPerBatch = 1000;
    private const int Window = 4;
    private static readonly TimeSpan CallBound = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan RunBound = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan ReferenceTime = TimeSpan.FromSeconds(1);

    private static readonly Method<EchoRequest, EchoReply> Chat = EchoMethod(MethodType.DuplexStreaming, "Chat");
    private static readonly Method<EchoRequest, EchoReply> Expand = EchoMethod(MethodType.ServerStreaming, "Expand");

    public static async Task<int> RunAsync(string[] args)
    {
        var batches = (int)Option(args, "--batches", 400);
        var echoCount = (int)Option(args, "--echo", 300_000);
        var streamCount = (int)Option(args, "--stream", 500_000);
        var python = !args.Contains("--no-python");
        using var bound = new CancellationTokenSource(RunBound);
        var ct = bound.Token;

        // Pre-built batches and messages: the runs measure the transport and protobuf, not record generation.
        var prepared = Enumerable.Range(0, 8).Select(i => MakeBatch(RecordsPerBatch, i)).ToArray();
        var echoRequest = new EchoRequest { Text = "m", Payload = ByteString.CopyFrom(new byte[100]) };
        var echoReply = new EchoReply { Text = echoRequest.Text, Index = 12345, Payload = echoRequest.Payload };
        var streamRequest = new EchoRequest { Repeat = streamCount, ReplySize = 100 };
        var streamReply = new EchoReply { Index = 12345, Payload = ByteString.CopyFrom(new byte[100]) };
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench/rpc: our gRPC transport on loopback, {Environment.ProcessorCount} cores; Publish batch {prepared[0].CalculateSize() / 1024} KiB ({RecordsPerBatch} records of ~{prepared[0].Records[0].CalculateSize()} B), echo message {echoRequest.CalculateSize() + 5} B framed, stream message {streamReply.CalculateSize() + 5} B framed"));

        // The machine is shared: each reference is measured before and after the transport runs, and each
        // transport figure is compared with the mean of the two.
        var before = MeasureReferences(prepared, echoRequest, echoReply, streamReply);
        Console.WriteLine(ProtobufBreakdown(prepared));

        double ingest, echo, stream;
        await using (var server = await BenchServer.StartAsync(ct))
        {
            using var channel = RpcChannel.ForAddress(server.Address);
            Console.WriteLine($"server     our Kestrel gRPC server on {server.Address} (Http2 only)");

            await PublishAsync(channel, prepared, 20, ct); // warm-up
            var clock = Stopwatch.StartNew();
            var acked = await PublishAsync(channel, prepared, batches, ct);
            ingest = Check(acked, (long)batches * RecordsPerBatch, "Publish acks") / clock.Elapsed.TotalSeconds;

            await EchoAsync(channel, echoRequest, 20_000, ct); // warm-up
            clock.Restart();
            echo = Check(await EchoAsync(channel, echoRequest, echoCount, ct), echoCount, "echo replies") / clock.Elapsed.TotalSeconds;

            await StreamAsync(channel, new EchoRequest { Repeat = 20_000, ReplySize = 100 }, ct); // warm-up
            clock.Restart();
            stream = Check(await StreamAsync(channel, streamRequest, ct), streamCount, "streamed replies") / clock.Elapsed.TotalSeconds;
        }

        var after = MeasureReferences(prepared, echoRequest, echoReply, streamReply);
        var reference = new References((before.Batch + after.Batch) / 2, (before.Echo + after.Echo) / 2, (before.Stream + after.Stream) / 2);
        var pythonRates = python ? await PythonReferenceAsync(echoRequest, streamReply, ct) : null;

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"reference  protobuf only, one thread (before / after): PublishBatch serialize + parse {before.Batch:N0} / {after.Batch:N0} records/s; echo request + reply serialize + parse {before.Echo:N0} / {after.Echo:N0} exchanges/s; stream reply serialize + parse {before.Stream:N0} / {after.Stream:N0} messages/s"));
        if (pythonRates is { } p)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"reference  python3-grpcio {p.Version} client -> python3-grpcio server (two processes), same message bytes: duplex echo {p.Echo:N0} messages/s each way; server streaming {p.Stream:N0} messages/s"));
        }

        var batchBytes = (double)prepared[0].CalculateSize() * ingest / RecordsPerBatch;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ingest     Publish, {batches} batches x {RecordsPerBatch} records, window {Window}, every batch acked: {ingest:N0} records/s ({ingest / RecordsPerBatch:N0} batches/s, {batchBytes / 1e6:N1} MB/s) = {ingest / reference.Batch:F2}x protobuf only"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"echo       duplex, {echoCount:N0} messages each way: {echo:N0} messages/s each way = {echo / reference.Echo:F2}x protobuf only{(pythonRates is { } pe ? string.Create(CultureInfo.InvariantCulture, $", {echo / pe.Echo:F1}x python3-grpcio") : string.Empty)}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"stream     server streaming, {streamCount:N0} messages: {stream:N0} messages/s = {stream / reference.Stream:F2}x protobuf only{(pythonRates is { } ps ? string.Create(CultureInfo.InvariantCulture, $", {stream / ps.Stream:F1}x python3-grpcio") : string.Empty)}"));
        return 0;
    }

    private sealed record References(double Batch, double Echo, double Stream);

    private sealed record PythonRates(string Version, double Echo, double Stream);

    private static References MeasureReferences(PublishBatch[] prepared, EchoRequest echoRequest, EchoReply echoReply, EchoReply streamReply)
    {
        var buffer = new ArrayBufferWriter<byte>(1 << 20);
        var batch = RateOf(i =>
        {
            buffer.ResetWrittenCount();
            prepared[i % prepared.Length].WriteTo(buffer);
            return PublishBatch.Parser.ParseFrom(buffer.WrittenSpan).Records.Count;
        });
        var echo = RateOf(_ =>
        {
            buffer.ResetWrittenCount();
            echoRequest.WriteTo(buffer);
            var request = EchoRequest.Parser.ParseFrom(buffer.WrittenSpan);
            buffer.ResetWrittenCount();
            echoReply.WriteTo(buffer);
            return EchoReply.Parser.ParseFrom(buffer.WrittenSpan).Payload.Length == request.Payload.Length ? 1 : 0;
        });
        var stream = RateOf(_ =>
        {
            buffer.ResetWrittenCount();
            streamReply.WriteTo(buffer);
            return EchoReply.Parser.ParseFrom(buffer.WrittenSpan).Payload.Length > 0 ? 1 : 0;
        });
        return new References(batch, echo, stream);
    }

    /// <summary>Units per second of <paramref name="step"/> (which returns the units it did) over <see cref="ReferenceTime"/>, after a short warm-up.</summary>
    private static double RateOf(Func<int, int> step)
    {
        for (var i = 0; i < 50; i++)
        {
            step(i);
        }

        long units = 0;
        var calls = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < ReferenceTime)
        {
            for (var i = 0; i < 8; i++)
            {
                units += step(calls++);
            }
        }

        return units / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Where the protobuf time of one batch goes (a diagnostic, not a headline figure).</summary>
    private static string ProtobufBreakdown(PublishBatch[] prepared)
    {
        const int rounds = 100;
        var buffer = new ArrayBufferWriter<byte>(1 << 20);
        long size = 0;
        var sizeClock = Stopwatch.StartNew();
        for (var i = 0; i < rounds; i++)
        {
            size += prepared[i % prepared.Length].CalculateSize();
        }

        sizeClock.Stop();
        var writeClock = Stopwatch.StartNew();
        for (var i = 0; i < rounds; i++)
        {
            buffer.ResetWrittenCount();
            prepared[i % prepared.Length].WriteTo(buffer);
        }

        writeClock.Stop();
        var parseClock = Stopwatch.StartNew();
        for (var i = 0; i < rounds; i++)
        {
            PublishBatch.Parser.ParseFrom(buffer.WrittenSpan);
        }

        parseClock.Stop();
        return string.Create(CultureInfo.InvariantCulture,
            $"protobuf   per batch of {size / rounds:N0} B: CalculateSize {sizeClock.Elapsed.TotalMilliseconds / rounds:N3} ms, WriteTo {writeClock.Elapsed.TotalMilliseconds / rounds:N3} ms, ParseFrom {parseClock.Elapsed.TotalMilliseconds / rounds:N3} ms");
    }

    private static long Check(long got, long expected, string what) =>
        got == expected ? got : throw new InvalidOperationException($"bench/rpc: expected {expected:N0} {what}, got {got:N0}");

    private static async Task<long> PublishAsync(RpcChannel channel, PublishBatch[] prepared, int batches, CancellationToken ct)
    {
        using var call = channel.DuplexStreamingCall(IngestRpc.Publish, new CallOptions(Deadline: DateTime.UtcNow + CallBound, CancellationToken: ct));
        using var slots = new SemaphoreSlim(Window);
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < batches; i++)
            {
                await slots.WaitAsync(ct);
                var batch = prepared[i % prepared.Length];
                batch.Sequence = (ulong)i;
                await call.RequestStream.WriteAsync(batch, ct);
            }

            await call.RequestStream.CompleteAsync();
        }, ct);

        long acked = 0;
        while (await call.ResponseStream.MoveNext(ct))
        {
            acked += call.ResponseStream.Current.Accepted;
            slots.Release();
        }

        await writer;
        return acked;
    }

    private static async Task<long> EchoAsync(RpcChannel channel, EchoRequest request, int count, CancellationToken ct)
    {
        using var call = channel.DuplexStreamingCall(Chat, new CallOptions(Deadline: DateTime.UtcNow + CallBound, CancellationToken: ct));
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < count; i++)
            {
                await call.RequestStream.WriteAsync(request, ct);
            }

            await call.RequestStream.CompleteAsync();
        }, ct);

        long received = 0;
        while (await call.ResponseStream.MoveNext(ct))
        {
            received++;
        }

        await writer;
        return received;
    }

    private static async Task<long> StreamAsync(RpcChannel channel, EchoRequest request, CancellationToken ct)
    {
        using var call = channel.ServerStreamingCall(Expand, request, new CallOptions(Deadline: DateTime.UtcNow + CallBound, CancellationToken: ct));
        long received = 0;
        while (await call.ResponseStream.MoveNext(ct))
        {
            received++;
        }

        return received;
    }

    /// <summary>
    /// python3-grpcio's server and client (two processes, so two interpreters) exchanging the same bytes as our
    /// echo and stream runs; null when python3-grpcio is missing. Loopback only; each process is bounded in time
    /// and stopped by its own handle.
    /// </summary>
    private static async Task<PythonRates?> PythonReferenceAsync(EchoRequest echoRequest, EchoReply streamReply, CancellationToken ct)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "python", "grpc_echo_reference.py");
        var probe = await PythonScripts.RunProcessAsync(RepoPaths.SystemPython, ["-c", "import grpc; print(grpc.__version__)"], null, TimeSpan.FromSeconds(30));
        if (probe.ExitCode != 0)
        {
            Console.WriteLine("reference  python3-grpcio is absent (apt-get install python3-grpcio): no python reference");
            return null;
        }

        var start = new ProcessStartInfo(RepoPaths.SystemPython) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { script, "server", Convert.ToHexString(streamReply.ToByteArray()) })
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var variable in new[] { "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "grpc_proxy", "PYTHONPATH" })
        {
            start.Environment.Remove(variable);
        }

        using var server = Process.Start(start) ?? throw new InvalidOperationException("could not start the python3-grpcio reference server");
        try
        {
            using var ready = CancellationTokenSource.CreateLinkedTokenSource(ct);
            ready.CancelAfter(TimeSpan.FromSeconds(30));
            var line = await server.StandardOutput.ReadLineAsync(ready.Token);
            if (line is null || !line.StartsWith("PORT ", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"python3-grpcio reference server did not report its port: {line}\n{await server.StandardError.ReadToEndAsync(ready.Token)}");
            }

            var port = line["PORT ".Length..];
            var client = await PythonScripts.RunProcessAsync(RepoPaths.SystemPython, [script, "client", port, Convert.ToHexString(echoRequest.ToByteArray()), "30000", "100000", "120"], null, TimeSpan.FromMinutes(4));
            if (client.ExitCode != 0)
            {
                throw new InvalidOperationException($"python3-grpcio reference client exited {client.ExitCode}:\n{client.Stderr}");
            }

            var rates = client.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(' '))
                .ToDictionary(f => f[0], f => double.Parse(f[1], CultureInfo.InvariantCulture) / double.Parse(f[2], CultureInfo.InvariantCulture), StringComparer.Ordinal);
            return new PythonRates(probe.Stdout.Trim(), rates["chat"], rates["expand"]);
        }
        finally
        {
            // Closing stdin ends the server; kill it (by its own handle) if it does not go within 10 s.
            server.StandardInput.Close();
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await server.WaitForExitAsync(exit.Token);
            }
            catch (OperationCanceledException)
            {
                server.Kill(entireProcessTree: true);
            }
        }
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

    private static Method<EchoRequest, EchoReply> EchoMethod(MethodType type, string name) =>
        new(type, "bench.v1.Echo", name, Marshallers.ForProtobuf<EchoRequest>(), Marshallers.ForProtobuf<EchoReply>());

    private static double Option(string[] args, string name, double fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1].Replace("_", string.Empty, StringComparison.Ordinal), CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>Our Kestrel server, Http2-only on 127.0.0.1:0 (ListenRpc), with the Ingest Publish ack loop and the echo service.</summary>
    private sealed class BenchServer : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private BenchServer(WebApplication app, IPEndPoint endPoint)
        {
            _app = app;
            Address = $"http://{endPoint}";
        }

        public string Address { get; }

        public static async Task<BenchServer> StartAsync(CancellationToken ct)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.Services.AddRpcServer();
            ListenOptions? rpc = null;
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenRpc(IPAddress.Loopback, 0, listen => rpc = listen));
            var app = builder.Build();

            // Publish: acknowledge each batch as soon as it is read, so the run measures the transport, not a store.
            app.MapRpcDuplex(IngestRpc.Publish, async (requests, acks, context) =>
            {
                await foreach (var batch in requests.ReadAllAsync(context.CancellationToken))
                {
                    await acks.WriteAsync(new PublishAck { Sequence = batch.Sequence, Accepted = (uint)batch.Records.Count }, context.CancellationToken);
                }
            });
            app.MapRpcDuplex(Chat, async (requests, replies, context) =>
            {
                var index = 0;
                await foreach (var request in requests.ReadAllAsync(context.CancellationToken))
                {
                    await replies.WriteAsync(new EchoReply { Text = request.Text, Index = index++, Payload = request.Payload }, context.CancellationToken);
                }
            });
            app.MapRpcServerStreaming(Expand, async (request, replies, context) =>
            {
                var payload = ByteString.CopyFrom(new byte[request.ReplySize]);
                for (var i = 0; i < request.Repeat; i++)
                {
                    await replies.WriteAsync(new EchoReply { Text = request.Text, Index = i, Payload = payload }, context.CancellationToken);
                }
            });

            using var startBound = CancellationTokenSource.CreateLinkedTokenSource(ct);
            startBound.CancelAfter(TimeSpan.FromSeconds(30));
            await app.StartAsync(startBound.Token);
            return new BenchServer(app, rpc!.IPEndPoint!);
        }

        public async ValueTask DisposeAsync()
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _app.StopAsync(cts.Token);
            await _app.DisposeAsync();
        }
    }
}
