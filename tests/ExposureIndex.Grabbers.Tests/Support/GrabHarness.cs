using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ExposureIndex.Contracts.V1;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Grabbers.Tests.Support;

/// <summary>Captured fixture files under tests/ExposureIndex.Grabbers.Tests/Fixtures/&lt;Proto&gt;/.</summary>
internal static class ProtocolFixtures
{
    public static byte[] Read(string protocol, string name)
        => File.ReadAllBytes(Path.Combine(RepoPaths.Root, "tests", "ExposureIndex.Grabbers.Tests", "Fixtures", protocol, name));

    /// <summary>A stable text form of a result (records holding lists lack value equality).</summary>
    public static string Canonical<T>(T value) => JsonSerializer.Serialize(value);

    /// <summary>How many bytes of <paramref name="transcript"/> a fresh parser needs before it completes (the transcript may go on, e.g. with a QUIT reply).</summary>
    public static int CompletionLength<T>(Func<IIncrementalParser<T>> create, byte[] transcript)
        where T : class
    {
        var parser = create();
        for (var i = 0; i < transcript.Length; i++)
        {
            if (parser.Feed(transcript.AsSpan(i, 1)) == ParseStatus.Complete)
            {
                return i + 1;
            }
        }

        throw new InvalidOperationException($"the parser never completed on {transcript.Length} bytes: {parser.Error}");
    }

    /// <summary>Feeds a transcript whole and returns the commands the parser handed out, in order.</summary>
    public static IReadOnlyList<string> Commands<T>(IConversationParser<T> parser, byte[] transcript)
        where T : class
    {
        var sent = new List<string>();
        void Take()
        {
            var bytes = parser.TakeOutgoing();
            if (!bytes.IsEmpty)
            {
                sent.Add(Encoding.Latin1.GetString(bytes.Span));
            }
        }

        Take();
        foreach (var b in transcript)
        {
            if (parser.Feed([b]) != ParseStatus.NeedMore)
            {
                break;
            }

            Take();
        }

        Take();
        return sent;
    }
}

/// <summary>Grab contexts aimed at loopback test servers, with short caps so hostile peers cost little.</summary>
internal static class GrabContexts
{
    public static GrabLimits Short { get; } = new()
    {
        ConnectTimeout = TimeSpan.FromSeconds(2),
        ReadTimeout = TimeSpan.FromMilliseconds(500),
        TotalDeadline = TimeSpan.FromSeconds(4),
        MaxBytesPerConnection = 256 * 1024,
    };

    public static GrabContext For(IPEndPoint endPoint, GrabLimits? limits = null)
    {
        Assert.True(IPAddress.IsLoopback(endPoint.Address), "tests only talk to loopback");
        return new GrabContext
        {
            Target = new GrabTarget(endPoint.Address, endPoint.Port, Transport.Tcp),
            Limits = limits ?? Short,
            Network = SocketGrabNetwork.Instance,
        };
    }
}

/// <summary>
/// A tiny TCP server on a fresh 127.x.y.z address that runs <c>handler</c> for each connection, counting what it
/// wrote and recording the lines the client sent. Every connection is bounded by the server's lifetime token.
/// </summary>
internal sealed class TestServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<Connection, CancellationToken, Task> _handler;
    private readonly List<Task> _connections = [];
    private readonly Task _accepting;
    private long _bytesWritten;

    private TestServer(Func<Connection, CancellationToken, Task> handler)
    {
        _handler = handler;
        var address = Loopback.NextAddress();
        _listener = new TcpListener(address, 0);
        _listener.Start();
        EndPoint = (IPEndPoint)_listener.LocalEndpoint;
        _accepting = AcceptAsync();
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Bytes the server managed to hand to the socket.</summary>
    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    /// <summary>Every line the clients sent, in arrival order (CRLF removed).</summary>
    public ConcurrentQueue<string> ReceivedLines { get; } = new();

    /// <summary>Raw bytes the clients sent.</summary>
    public ConcurrentQueue<byte[]> Received { get; } = new();

    public int Accepted { get; private set; }

    public static TestServer Start(Func<Connection, CancellationToken, Task> handler) => new(handler);

    /// <summary>Replays canned replies: <paramref name="greeting"/> on connect, then one reply per command line, by the command's first word.</summary>
    public static TestServer Scripted(byte[]? greeting, Func<string, byte[]?> reply)
        => Start(async (c, ct) =>
        {
            if (greeting is not null)
            {
                await c.WriteAsync(greeting, ct);
            }

            while (await c.ReadLineAsync(ct) is { } line)
            {
                if (reply(line) is { } answer)
                {
                    await c.WriteAsync(answer, ct);
                }
                else
                {
                    return;
                }
            }
        });

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException or OperationCanceledException)
        {
        }

        foreach (var task in _connections.ToArray())
        {
            try
            {
                await task.WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or TimeoutException)
            {
            }
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var socket = await _listener.AcceptSocketAsync(_stop.Token);
            Accepted++;
            lock (_connections)
            {
                _connections.Add(RunAsync(socket));
            }
        }
    }

    private async Task RunAsync(Socket socket)
    {
        using (socket)
        {
            var connection = new Connection(this, socket);
            try
            {
                await _handler(connection, _stop.Token);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client hung up or the test ended: that is how hostile exchanges finish.
            }
        }
    }

    /// <summary>One accepted connection.</summary>
    internal sealed class Connection(TestServer server, Socket socket)
    {
        private readonly List<byte> _pending = [];

        public async Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
        {
            while (!data.IsEmpty)
            {
                var n = await socket.SendAsync(data, SocketFlags.None, ct);
                Interlocked.Add(ref server._bytesWritten, n);
                data = data[n..];
            }
        }

        /// <summary>Reads one line sent by the client (null when it closed), recording it.</summary>
        public async Task<string?> ReadLineAsync(CancellationToken ct)
        {
            var buffer = new byte[4096];
            while (true)
            {
                var newline = _pending.IndexOf((byte)'\n');
                if (newline >= 0)
                {
                    var line = Encoding.Latin1.GetString(_pending.GetRange(0, newline + 1).ToArray()).TrimEnd('\r', '\n');
                    _pending.RemoveRange(0, newline + 1);
                    server.ReceivedLines.Enqueue(line);
                    return line;
                }

                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct);
                if (n == 0)
                {
                    return null;
                }

                server.Received.Enqueue(buffer[..n]);
                _pending.AddRange(buffer.AsSpan(0, n));
            }
        }

        /// <summary>Reads whatever the client sends next (empty when it closed).</summary>
        public async Task<byte[]> ReadAsync(CancellationToken ct)
        {
            var buffer = new byte[4096];
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct);
            var bytes = buffer[..n];
            if (n > 0)
            {
                server.Received.Enqueue(bytes);
            }

            return bytes;
        }
    }
}

/// <summary>
/// The hostile peers every grabber must survive with bounded time and memory (issue 3 item 4): a tarpit, binary
/// garbage, a line that never ends, an endless multi-line reply, a slow drip. Each returns the grab's result and
/// how many bytes the server got to write.
/// </summary>
internal static class HostilePeers
{
    public const int TenMegabytes = 10 * 1024 * 1024;

    /// <summary>Accepts, reads what the client says, and never answers.</summary>
    public static async Task<GrabResult> TarpitAsync(IGrabber grabber)
    {
        await using var server = TestServer.Start(async (c, ct) =>
        {
            while ((await c.ReadAsync(ct)).Length > 0)
            {
            }
        });
        return await grabber.GrabAsync(GrabContexts.For(server.EndPoint), TestContext.Current.CancellationToken);
    }

    /// <summary>Sends seeded random bytes (up to 10 MB) until the client leaves.</summary>
    public static Task<(GrabResult Result, long Written)> GarbageAsync(IGrabber grabber)
    {
        var random = new Random(42);
        return StreamAsync(grabber, Array.Empty<byte>(), () =>
        {
            var chunk = new byte[16 * 1024];
            random.NextBytes(chunk);
            return chunk;
        });
    }

    /// <summary>Sends <paramref name="prefix"/>, then 10 MB of 'A' without a line end.</summary>
    public static Task<(GrabResult Result, long Written)> EndlessLineAsync(IGrabber grabber, string prefix)
        => StreamAsync(grabber, Encoding.ASCII.GetBytes(prefix), () => Enumerable.Repeat((byte)'A', 16 * 1024).ToArray());

    /// <summary>Sends <paramref name="first"/>, then <paramref name="line"/> over and over, 10 MB in all.</summary>
    public static Task<(GrabResult Result, long Written)> EndlessLinesAsync(IGrabber grabber, string first, string line)
    {
        var block = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(line, Math.Max(1, 16 * 1024 / line.Length))));
        return StreamAsync(grabber, Encoding.ASCII.GetBytes(first), () => block);
    }

    /// <summary>Sends <paramref name="message"/> one byte at a time, a byte every <paramref name="interval"/>, forever.</summary>
    public static async Task<GrabResult> SlowDripAsync(IGrabber grabber, string message, TimeSpan interval)
    {
        var bytes = Encoding.ASCII.GetBytes(message);
        await using var server = TestServer.Start(async (c, ct) =>
        {
            for (var i = 0; i < 100_000; i++)
            {
                await c.WriteAsync(bytes.AsMemory(i % bytes.Length, 1), ct);
                await Task.Delay(interval, ct);
            }
        });
        return await grabber.GrabAsync(GrabContexts.For(server.EndPoint), TestContext.Current.CancellationToken);
    }

    private static async Task<(GrabResult Result, long Written)> StreamAsync(IGrabber grabber, byte[] first, Func<byte[]> next)
    {
        await using var server = TestServer.Start(async (c, ct) =>
        {
            await c.WriteAsync(first, ct);
            long sent = first.Length;
            while (sent < TenMegabytes)
            {
                var chunk = next();
                await c.WriteAsync(chunk, ct);
                sent += chunk.Length;
            }
        });
        var result = await grabber.GrabAsync(GrabContexts.For(server.EndPoint), TestContext.Current.CancellationToken);
        return (result, server.BytesWritten);
    }
}
