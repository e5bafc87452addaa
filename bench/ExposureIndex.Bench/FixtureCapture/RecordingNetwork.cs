using System.Net.Sockets;
using ExposureIndex.Grabbers;

namespace ExposureIndex.Bench.FixtureCapture;

/// <summary>Real sockets, like <see cref="SocketGrabNetwork"/>, that also keep every byte each connection received: how fixtures are captured.</summary>
internal sealed class RecordingNetwork : IGrabNetwork
{
    private readonly List<MemoryStream> _received = [];

    /// <summary>What each connection received, in connection order.</summary>
    public IReadOnlyList<byte[]> Received
    {
        get
        {
            lock (_received)
            {
                return _received.Select(s => s.ToArray()).ToList();
            }
        }
    }

    public async ValueTask<GrabConnection> ConnectAsync(GrabTarget target, GrabLimits limits, CancellationToken deadline)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(limits);
        if (!System.Net.IPAddress.IsLoopback(target.Address))
        {
            throw new InvalidOperationException($"fixture capture only reaches loopback, not {target.Address}");
        }

        var socket = new Socket(target.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(deadline);
        timeout.CancelAfter(limits.ConnectTimeout);
        await socket.ConnectAsync(target.EndPoint, timeout.Token);
        var log = new MemoryStream();
        lock (_received)
        {
            _received.Add(log);
        }

        return SocketGrabNetwork.Wrap(new RecordingStream(new NetworkStream(socket, ownsSocket: true), log), limits, deadline);
    }

    public ValueTask<IReadOnlyList<byte[]>> ExchangeUdpAsync(GrabTarget target, ReadOnlyMemory<byte> request, GrabLimits limits, CancellationToken deadline, int maxReplies = 1)
        => throw new NotSupportedException("TCP only");

    private sealed class RecordingStream(Stream inner, MemoryStream log) : DelegatingStream(inner)
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await Inner.ReadAsync(buffer, cancellationToken);
            lock (log)
            {
                log.Write(buffer.Span[..n]);
            }

            return n;
        }
    }
}
