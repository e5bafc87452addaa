using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Tests.Support;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Grabbers.Tests.Dns;

/// <summary>
/// A tiny UDP server on a fresh 127.x.y.z address: for each datagram it receives, <c>reply</c> returns the datagrams
/// to send back (none = silence). Used by the UDP grabbers' tests (dns-udp, snmp, ntp). Bounded by its lifetime.
/// </summary>
internal sealed class UdpTestServer : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<byte[], IEnumerable<byte[]>> _reply;
    private readonly Task _loop;

    private UdpTestServer(Func<byte[], IEnumerable<byte[]>> reply)
    {
        _reply = reply;
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(Loopback.NextAddress(), 0));
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _loop = RunAsync();
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Every datagram received, in order.</summary>
    public ConcurrentQueue<byte[]> Received { get; } = new();

    public static UdpTestServer Start(Func<byte[], IEnumerable<byte[]>> reply) => new(reply);

    /// <summary>A grab context aimed at this server over UDP, with the short test caps.</summary>
    public GrabContext Context(GrabLimits? limits = null) => new()
    {
        Target = new GrabTarget(EndPoint.Address, EndPoint.Port, Transport.Udp),
        Limits = limits ?? GrabContexts.Short,
        Network = SocketGrabNetwork.Instance,
    };

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or TimeoutException)
        {
        }

        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        var buffer = new byte[65_535];
        while (!_stop.IsCancellationRequested)
        {
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, from, _stop.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                return;
            }

            var request = buffer[..received.ReceivedBytes];
            Received.Enqueue(request);
            foreach (var datagram in _reply(request))
            {
                await _socket.SendToAsync(datagram, SocketFlags.None, received.RemoteEndPoint, _stop.Token);
            }
        }
    }
}

/// <summary>Hostile binary peers over TCP beyond the shared <see cref="HostilePeers"/>: scripted replies and slow drips of exact bytes.</summary>
internal static class BinaryPeers
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A server that answers each request chunk with <paramref name="reply"/>(connection number, bytes received); null closes.</summary>
    public static TestServer Scripted(Func<int, byte[], byte[]?> reply)
    {
        var connections = 0;
        return TestServer.Start(async (c, ct) =>
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

    /// <summary>Sends <paramref name="first"/> at once (after the client's first bytes when <paramref name="afterRequest"/>), then <paramref name="drip"/> one byte per interval, repeating, until the client leaves.</summary>
    public static async Task<GrabResult> DripAsync(IGrabber grabber, byte[] first, byte[] drip, TimeSpan interval, bool afterRequest)
    {
        await using var server = TestServer.Start(async (c, ct) =>
        {
            if (afterRequest)
            {
                await c.ReadAsync(ct);
            }

            await c.WriteAsync(first, ct);
            for (var i = 0; i < 100_000; i++)
            {
                await c.WriteAsync(drip.AsMemory(i % drip.Length, 1), ct);
                await Task.Delay(interval, ct);
            }
        });
        return await grabber.GrabAsync(GrabContexts.For(server.EndPoint), Ct);
    }

    /// <summary>Answers the client's first bytes with an endless stream of <paramref name="block"/> (10 MB at most).</summary>
    public static async Task<(GrabResult Result, long Written)> FloodAfterRequestAsync(IGrabber grabber, byte[] first, byte[] block)
    {
        await using var server = TestServer.Start(async (c, ct) =>
        {
            await c.ReadAsync(ct);
            await c.WriteAsync(first, ct);
            long sent = first.Length;
            while (sent < HostilePeers.TenMegabytes)
            {
                await c.WriteAsync(block, ct);
                sent += block.Length;
            }
        });
        var result = await grabber.GrabAsync(GrabContexts.For(server.EndPoint), Ct);
        return (result, server.BytesWritten);
    }
}
