using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Minimal raw-socket clients for checking what a daemon says on the wire. Loopback only, and every call is bounded
/// by a timeout and a byte cap. Deliberately no HttpClient: it honours proxy environment variables.
/// </summary>
public static class WireProbe
{
    private const int DefaultMaxBytes = 64 * 1024;

    /// <summary>True when a TCP connect succeeds within <paramref name="timeout"/>.</summary>
    public static async Task<bool> TryConnectAsync(IPEndPoint endPoint, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        EnsureLoopback(endPoint);
        using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(endPoint, cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// Connects, sends <paramref name="request"/> (may be empty), and reads until <paramref name="isComplete"/> says so,
    /// the peer closes, or <paramref name="maxBytes"/> arrived. Throws <see cref="TimeoutException"/> naming the endpoint
    /// when <paramref name="timeout"/> passes first.
    /// </summary>
    public static async Task<byte[]> ExchangeAsync(IPEndPoint endPoint, ReadOnlyMemory<byte> request, Func<ReadOnlyMemory<byte>, bool> isComplete, TimeSpan timeout, int maxBytes = DefaultMaxBytes, CancellationToken cancellationToken = default)
    {
        EnsureLoopback(endPoint);
        ArgumentNullException.ThrowIfNull(isComplete);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        var received = new MemoryStream();
        try
        {
            await socket.ConnectAsync(endPoint, cts.Token).ConfigureAwait(false);
            if (!request.IsEmpty)
            {
                await socket.SendAsync(request, SocketFlags.None, cts.Token).ConfigureAwait(false);
            }

            var buffer = new byte[4096];
            while (received.Length < maxBytes)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, maxBytes - received.Length)), SocketFlags.None, cts.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                received.Write(buffer, 0, n);
                if (isComplete(received.GetBuffer().AsMemory(0, (int)received.Length)))
                {
                    break;
                }
            }

            return received.ToArray();
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{endPoint} did not complete an answer within {timeout.TotalSeconds:0.#} s; got {received.Length} bytes: {Latin1(received.ToArray(), 200)}");
        }
    }

    /// <summary>Reads the first line the server sends on connect (SSH, FTP, SMTP banners), without the line end.</summary>
    public static async Task<string> ReadBannerLineAsync(IPEndPoint endPoint, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var bytes = await ExchangeAsync(endPoint, ReadOnlyMemory<byte>.Empty, b => b.Span.Contains((byte)'\n'), timeout, 4096, cancellationToken).ConfigureAwait(false);
        var text = Encoding.Latin1.GetString(bytes);
        var end = text.IndexOf('\n', StringComparison.Ordinal);
        return (end >= 0 ? text[..end] : text).TrimEnd('\r');
    }

    /// <summary>Sends <paramref name="request"/> and reads until the answer contains <paramref name="terminator"/>; Latin-1 both ways.</summary>
    public static async Task<string> ExchangeTextAsync(IPEndPoint endPoint, string request, string terminator, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var term = Encoding.Latin1.GetBytes(terminator);
        var bytes = await ExchangeAsync(endPoint, Encoding.Latin1.GetBytes(request), b => b.Span.IndexOf(term) >= 0, timeout, DefaultMaxBytes, cancellationToken).ConfigureAwait(false);
        return Encoding.Latin1.GetString(bytes);
    }

    /// <summary>An HTTP/1.0 GET (the server closes after answering); returns the whole raw response, headers and body.</summary>
    public static async Task<string> HttpGetAsync(IPEndPoint endPoint, string path, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var request = $"GET {path} HTTP/1.0\r\nHost: {endPoint.Address}:{endPoint.Port}\r\nUser-Agent: ExposureIndex-tests\r\nConnection: close\r\n\r\n";
        var bytes = await ExchangeAsync(endPoint, Encoding.ASCII.GetBytes(request), _ => false, timeout, 1024 * 1024, cancellationToken).ConfigureAwait(false);
        return Encoding.Latin1.GetString(bytes);
    }

    /// <summary>Sends one datagram and returns the first answer; throws <see cref="TimeoutException"/> when none comes.</summary>
    public static async Task<byte[]> UdpExchangeAsync(IPEndPoint endPoint, ReadOnlyMemory<byte> datagram, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        EnsureLoopback(endPoint);
        using var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(endPoint);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var buffer = new byte[65535];
        try
        {
            await socket.SendAsync(datagram, SocketFlags.None, cts.Token).ConfigureAwait(false);
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token).ConfigureAwait(false);
            return buffer[..n];
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"udp {endPoint} sent no answer within {timeout.TotalSeconds:0.#} s.");
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            // ICMP port unreachable comes back as ECONNREFUSED on a connected UDP socket.
            throw new TimeoutException($"udp {endPoint} is closed (ICMP port unreachable).", e);
        }
    }

    /// <summary>Bytes as Latin-1 text with control characters escaped, for error messages.</summary>
    public static string Latin1(byte[] bytes, int maxChars = 400)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var sb = new StringBuilder();
        foreach (var b in bytes.Take(maxChars))
        {
            _ = b is >= 0x20 and < 0x7f ? sb.Append((char)b) : sb.Append(b switch { (byte)'\r' => "\\r", (byte)'\n' => "\\n", _ => $"\\x{b:x2}" });
        }

        return sb.ToString();
    }

    private static void EnsureLoopback(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        if (!IPAddress.IsLoopback(endPoint.Address))
        {
            throw new ArgumentException($"Tests may only touch loopback, not {endPoint.Address}.", nameof(endPoint));
        }
    }
}
