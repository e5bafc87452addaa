using System.Net;
using System.Net.Sockets;
using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Grabbers;

/// <summary>
/// How grabbers reach the network. The only implementation that touches sockets is <see cref="SocketGrabNetwork"/>;
/// a grab never opens sockets by itself, so every connection goes through the caps (and, in the Crawler, the
/// rate limiter and blocklist that wrap this).
/// </summary>
public interface IGrabNetwork
{
    /// <summary>Opens a TCP connection. Refused and timed-out connects throw <see cref="GrabLimitException"/> with that outcome.</summary>
    ValueTask<GrabConnection> ConnectAsync(GrabTarget target, GrabLimits limits, CancellationToken deadline);

    /// <summary>
    /// Sends one UDP datagram and collects the replies that arrive within the read timeout (at most
    /// <paramref name="maxReplies"/>). An empty list means no answer, which for UDP is not proof of anything.
    /// </summary>
    ValueTask<IReadOnlyList<byte[]>> ExchangeUdpAsync(GrabTarget target, ReadOnlyMemory<byte> request, GrabLimits limits, CancellationToken deadline, int maxReplies = 1);
}

/// <summary>Real sockets, with the connect timeout and caps applied.</summary>
public sealed class SocketGrabNetwork : IGrabNetwork
{
    public static SocketGrabNetwork Instance { get; } = new();

    public async ValueTask<GrabConnection> ConnectAsync(GrabTarget target, GrabLimits limits, CancellationToken deadline)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(limits);
        var socket = new Socket(target.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(deadline);
        timeout.CancelAfter(limits.ConnectTimeout);
        try
        {
            await socket.ConnectAsync(target.EndPoint, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!deadline.IsCancellationRequested)
        {
            socket.Dispose();
            throw new GrabLimitException(GrabOutcome.ConnectTimeout, $"connect to {target.EndPoint} timed out after {limits.ConnectTimeout.TotalMilliseconds:F0} ms");
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new GrabLimitException(
                ex.SocketErrorCode == SocketError.ConnectionRefused ? GrabOutcome.Refused : GrabOutcome.Unknown,
                $"connect to {target.EndPoint} failed: {ex.SocketErrorCode}");
        }

        return new GrabConnection(socket, new NetworkStream(socket, ownsSocket: true), limits, deadline);
    }

    public async ValueTask<IReadOnlyList<byte[]>> ExchangeUdpAsync(GrabTarget target, ReadOnlyMemory<byte> request, GrabLimits limits, CancellationToken deadline, int maxReplies = 1)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(limits);
        using var socket = new Socket(target.Address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(target.EndPoint);
        await socket.SendAsync(request, SocketFlags.None, deadline).ConfigureAwait(false);
        var replies = new List<byte[]>();
        var buffer = new byte[Math.Min(65_535, limits.MaxBytesPerConnection)];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(deadline);
        timeout.CancelAfter(limits.ReadTimeout);
        var total = 0;
        while (replies.Count < maxReplies && total < limits.MaxBytesPerConnection)
        {
            try
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                replies.Add(buffer.AsSpan(0, n).ToArray());
                total += n;
            }
            catch (OperationCanceledException) when (!deadline.IsCancellationRequested)
            {
                break;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset)
            {
                // ICMP port unreachable: closed.
                throw new GrabLimitException(GrabOutcome.Refused, $"{target} answered ICMP port unreachable");
            }
        }

        return replies;
    }

    /// <summary>Wraps an already-open stream (the crawler's first connection) in the same caps.</summary>
    public static GrabConnection Wrap(Stream stream, GrabLimits limits, CancellationToken deadline) => new(null, stream, limits, deadline);
}
