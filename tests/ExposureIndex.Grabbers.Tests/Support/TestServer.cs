using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Grabbers.Tests.Support;

/// <summary>
/// A tiny TCP server on a fresh 127.x.y.z address that runs a handler for each connection, counting what it wrote
/// and recording what the client sent: how the grabber tests stand up well-behaved and hostile peers. Every
/// connection is bounded by the server's lifetime; disposing stops accepting and cancels every handler.
/// </summary>
internal sealed class TestServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<Connection, CancellationToken, Task> _handler;
    private readonly List<Task> _connections = [];
    private readonly Task _accepting;
    private long _bytesWritten;
    private int _accepted;

    private TestServer(Func<Connection, CancellationToken, Task> handler)
    {
        _handler = handler;
        _listener = new TcpListener(Loopback.NextAddress(), 0);
        _listener.Start();
        EndPoint = (IPEndPoint)_listener.LocalEndpoint;
        _accepting = AcceptAsync();
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Bytes the server managed to hand to the socket through <see cref="Connection.WriteAsync"/>.</summary>
    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    /// <summary>Every line the clients sent, in arrival order (CRLF removed), as read by <see cref="Connection.ReadLineAsync"/>.</summary>
    public ConcurrentQueue<string> ReceivedLines { get; } = new();

    /// <summary>Raw bytes the clients sent, as read by <see cref="Connection.ReadAsync"/> and <see cref="Connection.ReadLineAsync"/>.</summary>
    public ConcurrentQueue<byte[]> Received { get; } = new();

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    public static TestServer Start(Func<Connection, CancellationToken, Task> handler) => new(handler);

    /// <summary>Runs <paramref name="script"/> on each connection's stream: for TLS servers and byte-exact dialogues.</summary>
    public static TestServer OnStream(Func<NetworkStream, CancellationToken, Task> script) => new((c, ct) => script(c.Stream, ct));

    /// <summary>Replays canned replies: <paramref name="greeting"/> on connect, then one reply per command line; null closes.</summary>
    public static TestServer Scripted(byte[]? greeting, Func<string, byte[]?> reply)
        => Start(async (c, ct) =>
        {
            if (greeting is not null)
            {
                await c.WriteAsync(greeting, ct);
            }

            while (await c.ReadLineAsync(ct) is { } line)
            {
                if (reply(line) is not { } answer)
                {
                    return;
                }

                await c.WriteAsync(answer, ct);
            }
        });

    /// <summary>Answers each chunk the client sends with <paramref name="reply"/>(connection number from 1, bytes received); null closes.</summary>
    public static TestServer Answering(Func<int, byte[], byte[]?> reply)
    {
        var connections = 0;
        return Start(async (c, ct) =>
        {
            var number = Interlocked.Increment(ref connections);
            while (true)
            {
                var request = await c.ReadAsync(ct);
                if (request.Length == 0 || reply(number, request) is not { } answer)
                {
                    return;
                }

                await c.WriteAsync(answer, ct);
            }
        });
    }

    /// <summary>Waits (5 s at most) until the clients sent <paramref name="count"/> lines; returns the lines sent so far.</summary>
    public async Task<IReadOnlyList<string>> WaitForLinesAsync(int count)
    {
        Assert.True(await Poll.UntilAsync(() => ReceivedLines.Count >= count, TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken), $"the clients sent {ReceivedLines.Count} lines, not {count}");
        return [.. ReceivedLines];
    }

    /// <summary>Waits (5 s at most) until <paramref name="count"/> reads brought the clients' bytes; returns what each read got so far.</summary>
    public async Task<IReadOnlyList<byte[]>> WaitForReceivedAsync(int count)
    {
        Assert.True(await Poll.UntilAsync(() => Received.Count >= count, TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken), $"{Received.Count} reads got client bytes, not {count}");
        return [.. Received];
    }

    /// <summary>A grab context aimed at this server (see <see cref="GrabContexts.For"/>).</summary>
    public GrabContext Context(GrabLimits? limits = null, bool tls = false, string? service = null)
        => GrabContexts.For(EndPoint, limits, tls: tls, service: service);

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

        Task[] connections;
        lock (_connections)
        {
            connections = [.. _connections];
        }

        foreach (var task in connections)
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
            Interlocked.Increment(ref _accepted);
            lock (_connections)
            {
                _connections.Add(Task.Run(() => RunAsync(socket)));
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
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or AuthenticationException)
            {
                // The client hung up or the test ended: that is how hostile exchanges finish.
            }
        }
    }

    /// <summary>One accepted connection.</summary>
    internal sealed class Connection(TestServer server, Socket socket)
    {
        private readonly List<byte> _pending = [];
        private NetworkStream? _stream;

        /// <summary>The connection as a stream (unrecorded), for SslStream and stream-based scripts.</summary>
        public NetworkStream Stream => _stream ??= new NetworkStream(socket, ownsSocket: false);

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

        /// <summary>Reads whatever the client sends next (empty when it closed), recording it.</summary>
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

/// <summary>Reads for stream-based server scripts.</summary>
internal static class StreamScripts
{
    /// <summary>Reads from <paramref name="stream"/> until <paramref name="marker"/> has arrived (or 64 KiB); returns what was read.</summary>
    public static async Task<byte[]> ReadUntilAsync(this Stream stream, byte[] marker, CancellationToken cancellationToken)
    {
        var received = new List<byte>();
        var buffer = new byte[4096];
        while (received.Count < 64 * 1024)
        {
            var n = await stream.ReadAsync(buffer, cancellationToken);
            if (n == 0)
            {
                break;
            }

            received.AddRange(buffer.AsSpan(0, n));
            if (received.Count >= marker.Length && System.MemoryExtensions.IndexOf(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(received), marker) >= 0)
            {
                break;
            }
        }

        return [.. received];
    }
}
