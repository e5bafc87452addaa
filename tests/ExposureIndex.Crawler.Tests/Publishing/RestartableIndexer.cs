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
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Crawler.Tests.Publishing;

/// <summary>
/// A test Indexer that can be killed and started again on the same loopback address and port, keeping its
/// "store" across restarts the way a real Indexer's disk does: records are stored by identity, so a resent
/// record is acknowledged as a duplicate (the Indexer is idempotent by record identity). Kill aborts every
/// connection at once, as a SIGKILL would: batches in flight are lost without an ack, or stored with their
/// ack lost. Like the real Indexer, a batch is acknowledged only after it is stored.
/// </summary>
internal sealed class RestartableIndexer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, ServiceRecord> _store = new();
    private WebApplication? _app;
    private long _batches;
    private long _duplicates;

    private RestartableIndexer(IPAddress address, int port)
    {
        EndPoint = new IPEndPoint(address, port);
        Address = new Uri($"http://{EndPoint}");
    }

    public IPEndPoint EndPoint { get; }

    public Uri Address { get; }

    public bool Running => _app is not null;

    /// <summary>Records stored, by identity (duplicates collapse).</summary>
    public IReadOnlyDictionary<string, ServiceRecord> Stored => _store;

    public long Batches => Interlocked.Read(ref _batches);

    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>Kill the server after it has stored this many batches in total (null: never).</summary>
    public long? KillAfterBatches { get; set; }

    public TaskCompletionSource Killed { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Picks an address and port but does not listen yet (the Indexer is down).</summary>
    public static RestartableIndexer Create()
    {
        var address = Loopback.NextAddress();
        return new RestartableIndexer(address, Loopback.FreeTcpPort(address));
    }

    public async Task StartAsync()
    {
        if (_app is not null)
        {
            return;
        }

        Killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddRpcServer();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenRpc(EndPoint.Address, EndPoint.Port, _ => { }));
        var app = builder.Build();
        app.MapRpcDuplex(IngestRpc.Publish, PublishAsync);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(cts.Token);
        _app = app;
    }

    /// <summary>Stops at once: connections are aborted, nothing is drained (SIGKILL-like).</summary>
    public async Task KillAsync()
    {
        var app = _app;
        _app = null;
        if (app is null)
        {
            return;
        }

        using var now = new CancellationTokenSource();
        await now.CancelAsync();
        try
        {
            await app.StopAsync(now.Token);
        }
        catch (OperationCanceledException)
        {
            // An aborted stop is the point.
        }

        await app.DisposeAsync();
        Killed.TrySetResult();
    }

    public async ValueTask DisposeAsync() => await KillAsync();

    private async Task PublishAsync(IAsyncStreamReader<PublishBatch> requests, IServerStreamWriter<PublishAck> responses, ServerCallContext context)
    {
        // Bounded: the client's stream is finite, and the call token ends it on kill.
        while (await requests.MoveNext(context.CancellationToken))
        {
            var batch = requests.Current;
            var ack = new PublishAck { Sequence = batch.Sequence };
            foreach (var record in batch.Records)
            {
                ack.Accepted++;
                if (!_store.TryAdd(RecordIdentity.Compute(record), record))
                {
                    ack.Duplicates++;
                    Interlocked.Increment(ref _duplicates);
                }
            }

            var total = Interlocked.Increment(ref _batches);
            if (KillAfterBatches is { } limit && total >= limit)
            {
                // Stored, but the ack dies with the process.
                KillAfterBatches = null;
                _ = Task.Run(KillAsync);
                throw new RpcException(new Status(StatusCode.Unavailable, "indexer killed (test)"));
            }

            await responses.WriteAsync(ack, context.CancellationToken);
        }
    }
}
