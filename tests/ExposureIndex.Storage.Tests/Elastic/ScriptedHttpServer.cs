using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Storage.Tests.Elastic;

/// <summary>One request as the server read it.</summary>
internal sealed record RecordedRequest(string Method, string Target, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string Path => Target.Split('?')[0];

    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : null;
}

/// <summary>What to answer: a status and JSON body; or never answer (<see cref="Hang"/>); or close the connection (<see cref="Drop"/>).</summary>
internal sealed record ScriptedResponse(int Status, string Body = "{}", bool Hang = false, bool Drop = false)
{
    public static ScriptedResponse Json(int status, string body) => new(status, body);

    public static ScriptedResponse Ok(string body = "{}") => new(200, body);

    public static readonly ScriptedResponse Hanging = new(0, Hang: true);

    public static readonly ScriptedResponse Dropped = new(0, Drop: true);
}

/// <summary>
/// A tiny HTTP/1.1 server on a private loopback address that records every request and answers from a script
/// (request, its 0-based number) → response. Enough for HttpClient with Content-Length bodies and keep-alive.
/// Every read is bounded by the server's lifetime; nothing here leaves 127.0.0.0/8.
/// </summary>
internal sealed class ScriptedHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<RecordedRequest, int, ScriptedResponse> _script;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly List<Task> _connections = [];
    private readonly Task _acceptLoop;
    private int _count;

    public ScriptedHttpServer(Func<RecordedRequest, int, ScriptedResponse> script)
    {
        _script = script;
        var address = Loopback.NextAddress();
        if (!Loopback.IsLoopback(address))
        {
            throw new InvalidOperationException($"refusing to listen on non-loopback {address}");
        }

        _listener = new TcpListener(address, 0);
        _listener.Start();
        var endpoint = (IPEndPoint)_listener.LocalEndpoint;
        Url = new Uri($"http://{endpoint.Address}:{endpoint.Port.ToString(CultureInfo.InvariantCulture)}/");
        _acceptLoop = AcceptAsync();
    }

    public Uri Url { get; }

    public IReadOnlyList<RecordedRequest> Requests => _requests.ToArray();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _acceptLoop.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        Task[] connections;
        lock (_connections)
        {
            connections = [.. _connections];
        }

        await Task.WhenAll(connections).WaitAsync(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (_connections)
            {
                _connections.Add(ServeAsync(client));
            }
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var reader = new BufferedReader(stream);
                while (!_stop.IsCancellationRequested)
                {
                    var request = await ReadRequestAsync(reader, _stop.Token);
                    if (request is null)
                    {
                        return;
                    }

                    _requests.Enqueue(request);
                    var response = _script(request, Interlocked.Increment(ref _count) - 1);
                    if (response.Drop)
                    {
                        client.Client.LingerState = new LingerOption(true, 0); // RST: a connection error for the client
                        return;
                    }

                    if (response.Hang)
                    {
                        await Task.Delay(Timeout.Infinite, _stop.Token);
                    }

                    var body = Encoding.UTF8.GetBytes(response.Body);
                    var head = Encoding.ASCII.GetBytes(
                        $"HTTP/1.1 {response.Status.ToString(CultureInfo.InvariantCulture)} Scripted\r\nContent-Type: application/json\r\nContent-Length: {body.Length.ToString(CultureInfo.InvariantCulture)}\r\n\r\n");
                    await stream.WriteAsync(head, _stop.Token);
                    await stream.WriteAsync(body, _stop.Token);
                    await stream.FlushAsync(_stop.Token);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    private static async Task<RecordedRequest?> ReadRequestAsync(BufferedReader reader, CancellationToken cancellationToken)
    {
        var requestLine = await reader.ReadLineAsync(cancellationToken);
        if (string.IsNullOrEmpty(requestLine))
        {
            return null;
        }

        var parts = requestLine.Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < 100; i++)
        {
            var line = await reader.ReadLineAsync(cancellationToken);
            if (string.IsNullOrEmpty(line))
            {
                break;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim().ToLowerInvariant()] = line[(colon + 1)..].Trim();
        }

        var length = headers.TryGetValue("content-length", out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : 0;
        var body = await reader.ReadBytesAsync(length, cancellationToken);
        return new RecordedRequest(parts[0], Uri.UnescapeDataString(parts[1]), headers, Encoding.UTF8.GetString(body));
    }

    private sealed class BufferedReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        public async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
        {
            var line = new List<byte>();
            while (true)
            {
                if (_start == _end && !await FillAsync(cancellationToken))
                {
                    return line.Count == 0 ? null : Encoding.ASCII.GetString([.. line]);
                }

                var b = _buffer[_start++];
                if (b == '\n')
                {
                    return Encoding.ASCII.GetString([.. line]).TrimEnd('\r');
                }

                line.Add(b);
            }
        }

        public async Task<byte[]> ReadBytesAsync(int count, CancellationToken cancellationToken)
        {
            var result = new byte[count];
            var at = 0;
            while (at < count)
            {
                if (_start == _end && !await FillAsync(cancellationToken))
                {
                    throw new IOException("connection closed inside a request body");
                }

                var n = Math.Min(count - at, _end - _start);
                Array.Copy(_buffer, _start, result, at, n);
                _start += n;
                at += n;
            }

            return result;
        }

        private async Task<bool> FillAsync(CancellationToken cancellationToken)
        {
            _start = 0;
            _end = await stream.ReadAsync(_buffer, cancellationToken);
            return _end > 0;
        }
    }
}
