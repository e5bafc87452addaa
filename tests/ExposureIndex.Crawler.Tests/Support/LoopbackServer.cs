using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Crawler.Tests.Support;

/// <summary>
/// A TCP server on its own 127.x.y.z address standing in for one internet host. Bounded: it accepts at most
/// <see cref="MaxConnections"/> connections, every handler gets a token that fires on dispose or after
/// <see cref="Lifetime"/>, and dispose waits for every handler.
/// </summary>
internal sealed class LoopbackServer : IAsyncDisposable
{
    public const int MaxConnections = 32;
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new(Lifetime);
    private readonly Task _acceptLoop;
    private readonly ConcurrentBag<Task> _handlers = [];
    private int _accepted;

    private LoopbackServer(IPAddress address, Func<NetworkStream, CancellationToken, Task> handler)
    {
        if (!IPAddress.IsLoopback(address))
        {
            throw new ArgumentException($"test servers live on loopback only, not {address}", nameof(address));
        }

        _listener = new TcpListener(address, 0);
        _listener.Start();
        Address = address;
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptAsync(handler);
    }

    public IPAddress Address { get; }

    public int Port { get; }

    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Completes when the first connection is accepted.</summary>
    public TaskCompletionSource FirstConnection { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ConcurrentQueue<string> Requests { get; } = new();

    public static LoopbackServer Start(Func<NetworkStream, CancellationToken, Task> handler, IPAddress? address = null)
        => new(address ?? Loopback.NextAddress(), handler);

    /// <summary>Talks first, like SSH, then waits for the client to leave.</summary>
    public static LoopbackServer TalkFirst(string banner, IPAddress? address = null)
        => Start(async (stream, ct) =>
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(banner), ct);
            await DrainUntilClosedAsync(stream, ct);
        }, address);

    /// <summary>Silent until it has read an HTTP request, then answers it and keeps the connection open.</summary>
    public static LoopbackServer SilentHttp(string response)
    {
        LoopbackServer? server = null;
        server = Start(async (stream, ct) =>
        {
            var request = await ReadHeadAsync(stream, ct);
            server!.Requests.Enqueue(request);
            await stream.WriteAsync(Encoding.ASCII.GetBytes(response), ct);
            await DrainUntilClosedAsync(stream, ct);
        });
        return server;
    }

    /// <summary>Accepts and says nothing, ever (a tarpit).</summary>
    public static LoopbackServer Silent() => Start(DrainUntilClosedAsync);

    /// <summary>Sends one byte every <paramref name="interval"/>: never idle long enough to stop, so only the deadline ends it.</summary>
    public static LoopbackServer Drip(TimeSpan interval) => Start(async (stream, ct) =>
    {
        for (var i = 0; i < 10_000 && !ct.IsCancellationRequested; i++)
        {
            await stream.WriteAsync("."u8.ToArray(), ct);
            await Task.Delay(interval, ct);
        }
    });

    /// <summary>Sends an endless banner (bounded here at 64 MiB) until the client goes away.</summary>
    public static LoopbackServer Endless() => Start(async (stream, ct) =>
    {
        var chunk = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("220 endless banner line\r\n", 160)));
        for (long sent = 0; sent < 64L * 1024 * 1024 && !ct.IsCancellationRequested; sent += chunk.Length)
        {
            await stream.WriteAsync(chunk, ct);
        }
    });

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _acceptLoop.WaitAsync(TimeSpan.FromSeconds(10));
            await Task.WhenAll(_handlers).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync(Func<NetworkStream, CancellationToken, Task> handler)
    {
        try
        {
            while (!_stop.IsCancellationRequested && _accepted < MaxConnections)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _accepted);
                FirstConnection.TrySetResult();
                _handlers.Add(Task.Run(async () =>
                {
                    using (client)
                    {
                        try
                        {
                            await handler(client.GetStream(), _stop.Token);
                        }
                        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
                        {
                            // The crawler hung up, or the test ended.
                        }
                    }
                }));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private static async Task DrainUntilClosedAsync(NetworkStream stream, CancellationToken ct)
    {
        var buffer = new byte[1024];
        while (await stream.ReadAsync(buffer, ct) > 0)
        {
        }
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream, CancellationToken ct)
    {
        var received = new List<byte>();
        var buffer = new byte[1024];
        while (received.Count < 64 * 1024)
        {
            var read = await stream.ReadAsync(buffer, ct);
            if (read == 0)
            {
                break;
            }

            received.AddRange(buffer.AsSpan(0, read));
            if (Encoding.ASCII.GetString(received.ToArray()).Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                break;
            }
        }

        return Encoding.ASCII.GetString(received.ToArray());
    }
}
