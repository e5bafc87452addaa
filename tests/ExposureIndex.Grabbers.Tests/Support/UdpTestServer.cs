using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using ExposureIndex.Contracts.V1;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Grabbers.Tests.Support;

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

    /// <summary>A grab context aimed at this server over UDP (see <see cref="GrabContexts.For"/>).</summary>
    public GrabContext Context(GrabLimits? limits = null) => GrabContexts.For(EndPoint, limits, Transport.Udp);

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
