using System.Collections.Concurrent;
using System.Net;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Rpc.Core;
using ExposureIndex.Rpc.Server;
using ExposureIndex.Rpc.Services;
using ExposureIndex.TestCommon;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Crawler.Tests.Support;

/// <summary>How the test Indexer misbehaves, if at all.</summary>
internal enum IngestMisbehaviour
{
    None,
    AckUnknownSequence,
    AckWrongCount,
}

/// <summary>
/// A tiny Indexer: Kestrel on its own 127.x.y.z address serving <c>exposure.v1.Ingest/Publish</c> through
/// ExposureIndex.Rpc. It validates records the way an Indexer would (port, ip), counts duplicates by record
/// identity, can hold acks back to prove pipelining, and can fail the call or break the protocol.
/// </summary>
internal sealed class IngestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, bool> _seen = new();
    private int _maxUnacked;

    private IngestServer(WebApplication app, IPEndPoint endpoint)
    {
        _app = app;
        Address = new Uri($"http://{endpoint}");
    }

    public Uri Address { get; }

    /// <summary>Acks are held until this many batches are unacknowledged (1 = ack each at once).</summary>
    public int HoldAcksUntil { get; init; } = 1;

    /// <summary>After this many batches the call ends with UNAVAILABLE.</summary>
    public int? FailAfterBatches { get; init; }

    public IngestMisbehaviour Misbehaviour { get; init; }

    public ConcurrentQueue<PublishBatch> Batches { get; } = new();

    public ConcurrentQueue<ServiceRecord> Stored { get; } = new();

    public int MaxUnacked => Volatile.Read(ref _maxUnacked);

    public static async Task<IngestServer> StartAsync(Func<WebApplication, IPEndPoint, IngestServer> create)
    {
        var address = Loopback.NextAddress();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddRpcServer();
        ListenOptions? rpc = null;
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenRpc(address, 0, listen => rpc = listen));
        var app = builder.Build();
        IngestServer? server = null;
        app.MapRpcDuplex(IngestRpc.Publish, (requests, responses, context) => server!.PublishAsync(requests, responses, context));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(cts.Token);
        server = create(app, rpc!.IPEndPoint!);
        return server;
    }

    public static Task<IngestServer> StartAsync(int holdAcksUntil = 1, int? failAfterBatches = null, IngestMisbehaviour misbehaviour = IngestMisbehaviour.None)
        => StartAsync((app, endpoint) => new IngestServer(app, endpoint) { HoldAcksUntil = holdAcksUntil, FailAfterBatches = failAfterBatches, Misbehaviour = misbehaviour });

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
    }

    private async Task PublishAsync(IAsyncStreamReader<PublishBatch> requests, IServerStreamWriter<PublishAck> responses, ServerCallContext context)
    {
        var held = new List<PublishAck>();
        // Bounded: the client's stream is finite, and the call token ends it on cancel or shutdown.
        while (await requests.MoveNext(context.CancellationToken))
        {
            var batch = requests.Current;
            Batches.Enqueue(batch);
            if (FailAfterBatches is { } limit && Batches.Count > limit)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, "indexer shutting down (test)"));
            }

            held.Add(Validate(batch));
            _maxUnacked = Math.Max(_maxUnacked, held.Count);
            if (held.Count >= HoldAcksUntil)
            {
                await SendAsync(held, responses, context);
            }
        }

        await SendAsync(held, responses, context);
    }

    private async Task SendAsync(List<PublishAck> acks, IServerStreamWriter<PublishAck> responses, ServerCallContext context)
    {
        foreach (var ack in acks)
        {
            await responses.WriteAsync(ack, context.CancellationToken);
        }

        acks.Clear();
    }

    private PublishAck Validate(PublishBatch batch)
    {
        var ack = new PublishAck { Sequence = batch.Sequence };
        for (var i = 0; i < batch.Records.Count; i++)
        {
            var record = batch.Records[i];
            Rejection? rejection = null;
            if (record.Port is 0 or > 65535)
            {
                rejection = new Rejection { Index = (uint)i, Code = RejectionCode.InvalidPort, Field = "port", Reason = $"port {record.Port} is outside 1-65535" };
            }
            else if (!IPAddress.TryParse(record.Ip, out _))
            {
                rejection = new Rejection { Index = (uint)i, Code = RejectionCode.InvalidIp, Field = "ip", Reason = $"'{record.Ip}' is not an IP address" };
            }

            if (rejection is not null)
            {
                ack.Rejected++;
                ack.Rejections.Add(rejection);
                continue;
            }

            ack.Accepted++;
            if (!_seen.TryAdd(RecordIdentity.Compute(record), true))
            {
                ack.Duplicates++;
            }

            Stored.Enqueue(record);
        }

        switch (Misbehaviour)
        {
            case IngestMisbehaviour.AckUnknownSequence:
                ack.Sequence += 1000;
                break;
            case IngestMisbehaviour.AckWrongCount:
                ack.Accepted++;
                break;
        }

        return ack;
    }
}
