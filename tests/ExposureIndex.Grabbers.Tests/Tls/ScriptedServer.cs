using System.Net;
using System.Net.Sockets;
using ExposureIndex.Contracts.V1;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Grabbers.Tests.Tls;

/// <summary>
/// A tiny TCP server on a fresh 127.x.y.z address that runs a script per connection: how the HTTP, TLS and SSH
/// tests stand up well-behaved and hostile peers. Disposing stops accepting and cancels every script.
/// </summary>
internal sealed class ScriptedServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly List<Task> _scripts = [];
    private int _connections;

    private ScriptedServer(Func<NetworkStream, CancellationToken, Task> script)
    {
        _listener = new TcpListener(Loopback.NextAddress(), 0);
        _listener.Start();
        _acceptLoop = AcceptAsync(script);
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    public int Connections => Volatile.Read(ref _connections);

    public static ScriptedServer Start(Func<NetworkStream, CancellationToken, Task> script) => new(script);

    /// <summary>A grab context aimed at this server, with small caps so hostile scripts end quickly.</summary>
    public GrabContext Context(GrabLimits? limits = null, bool tls = false, string? service = null) => new()
    {
        Target = new GrabTarget(EndPoint.Address, EndPoint.Port, Transport.Tcp),
        Limits = limits ?? TestGrab.Small,
        Network = SocketGrabNetwork.Instance,
        Tls = tls,
        Service = service,
    };

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Task[] scripts;
        lock (_scripts)
        {
            scripts = [.. _scripts];
        }

        try
        {
            await Task.WhenAll(scripts.Append(_acceptLoop)).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException or TimeoutException or System.Security.Authentication.AuthenticationException)
        {
            // Scripts end by cancellation or by the client hanging up; neither is a test failure.
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync(Func<NetworkStream, CancellationToken, Task> script)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            var task = Task.Run(async () =>
            {
                using var stream = new NetworkStream(socket, ownsSocket: true);
                try
                {
                    await script(stream, _stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
                {
                    // The grabber hung up or the test ended.
                }
            });
            lock (_scripts)
            {
                _scripts.Add(task);
            }
        }
    }
}

/// <summary>Caps for tests against scripted peers.</summary>
internal static class TestGrab
{
    /// <summary>Short timeouts: hostile scripts are cut off within a few seconds, whatever they do.</summary>
    public static readonly GrabLimits Small = new()
    {
        ConnectTimeout = TimeSpan.FromSeconds(2),
        ReadTimeout = TimeSpan.FromMilliseconds(800),
        TotalDeadline = TimeSpan.FromSeconds(6),
        MaxBytesPerConnection = 256 * 1024,
    };

    /// <summary>Roomy timeouts for well-behaved scripts on a busy machine.</summary>
    public static readonly GrabLimits Roomy = new()
    {
        ConnectTimeout = TimeSpan.FromSeconds(5),
        ReadTimeout = TimeSpan.FromSeconds(5),
        TotalDeadline = TimeSpan.FromSeconds(30),
    };

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Bound for each test (ms).</summary>
    public const int TestTimeoutMs = 60_000;

    /// <summary>Reads a committed fixture from tests/ExposureIndex.Grabbers.Tests/Fixtures.</summary>
    public static byte[] Fixture(string proto, string name)
        => File.ReadAllBytes(Path.Combine(RepoPaths.Root, "tests", "ExposureIndex.Grabbers.Tests", "Fixtures", proto, name));

    /// <summary>Reads from <paramref name="stream"/> until <paramref name="marker"/> has arrived (or 64 KiB); returns what was read.</summary>
    public static async Task<byte[]> ReadUntilAsync(Stream stream, byte[] marker, CancellationToken cancellationToken)
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
