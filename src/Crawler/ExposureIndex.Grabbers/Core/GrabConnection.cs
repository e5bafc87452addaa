using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Grabbers;

/// <summary>
/// One capped connection. Reads time out after <see cref="GrabLimits.ReadTimeout"/> (or the grab's deadline,
/// whichever is first) and stop at the byte cap: <see cref="ReadAsync"/> then returns 0 and sets
/// <see cref="Truncated"/>, so a parser sees a clean end rather than an endless stream.
/// Thin I/O only: protocol logic lives in the parsers.
/// </summary>
public sealed class GrabConnection : IAsyncDisposable
{
    private readonly Socket? _socket;
    private readonly GrabLimits _limits;
    private readonly CancellationToken _deadline;
    private Stream _stream;
    private long _bytesRead;

    internal GrabConnection(Socket? socket, Stream stream, GrabLimits limits, CancellationToken deadline)
    {
        _socket = socket;
        _stream = stream;
        _limits = limits;
        _deadline = deadline;
    }

    public long BytesRead => Interlocked.Read(ref _bytesRead);

    /// <summary>True once the byte cap stopped reading.</summary>
    public bool Truncated { get; private set; }

    /// <summary>The TLS session, once <see cref="StartTlsAsync"/> succeeded.</summary>
    public SslStream? Tls => _stream as SslStream;

    /// <summary>Reads what arrives, up to the buffer; 0 at end of stream or at the byte cap. Throws <see cref="GrabLimitException"/> on a read timeout.</summary>
    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var remaining = _limits.MaxBytesPerConnection - BytesRead;
        if (remaining <= 0)
        {
            Truncated = true;
            return 0;
        }

        if (buffer.Length > remaining)
        {
            buffer = buffer[..(int)remaining];
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _deadline);
        timeout.CancelAfter(_limits.ReadTimeout);
        try
        {
            var n = await _stream.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
            Interlocked.Add(ref _bytesRead, n);
            return n;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new GrabLimitException(GrabOutcome.IoTimeout, _deadline.IsCancellationRequested
                ? "the grab's total deadline passed while reading"
                : $"no data within the {_limits.ReadTimeout.TotalMilliseconds:F0} ms read timeout");
        }
        catch (IOException ex) when (ex.InnerException is SocketException se)
        {
            if (se.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown)
            {
                return 0;
            }

            throw;
        }
    }

    /// <summary>
    /// Reads until <paramref name="isComplete"/> says the bytes so far form a whole message, the peer closes, the
    /// byte cap is reached, or <paramref name="maxBytes"/> is collected. A read timeout after some data ends the
    /// read quietly (slow talkers); a timeout before any data throws.
    /// </summary>
    public async ValueTask<byte[]> ReadUntilAsync(Func<ReadOnlySpan<byte>, bool> isComplete, int maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(isComplete);
        var buffer = new ArrayBufferWriter<byte>(Math.Min(maxBytes, 4096));
        while (buffer.WrittenCount < maxBytes)
        {
            var span = buffer.GetMemory(Math.Min(4096, maxBytes - buffer.WrittenCount));
            int n;
            try
            {
                n = await ReadAsync(span[..Math.Min(span.Length, maxBytes - buffer.WrittenCount)], cancellationToken).ConfigureAwait(false);
            }
            catch (GrabLimitException) when (buffer.WrittenCount > 0)
            {
                break;
            }

            if (n == 0)
            {
                break;
            }

            buffer.Advance(n);
            if (isComplete(buffer.WrittenSpan))
            {
                break;
            }
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads everything the peer sends until it goes quiet for one read timeout, closes, or a cap is hit.</summary>
    public ValueTask<byte[]> ReadUntilQuietAsync(int maxBytes, CancellationToken cancellationToken = default)
        => ReadUntilAsync(static _ => false, maxBytes, cancellationToken);

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _deadline);
        timeout.CancelAfter(_limits.ReadTimeout);
        try
        {
            await _stream.WriteAsync(data, timeout.Token).ConfigureAwait(false);
            await _stream.FlushAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new GrabLimitException(GrabOutcome.IoTimeout, "the peer did not accept our bytes in time");
        }
    }

    /// <summary>
    /// Upgrades to TLS (implicit TLS or after STARTTLS). Certificates are never validated: we record what the
    /// server presents, whatever it is. Garbage or a stalled handshake ends in <see cref="GrabLimitException"/>
    /// with outcome handshake error / I/O timeout.
    /// </summary>
    public async ValueTask<SslStream> StartTlsAsync(string? serverName, IList<SslApplicationProtocol>? alpn = null, CancellationToken cancellationToken = default)
    {
        var ssl = new SslStream(new CappedStream(this), leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = serverName ?? string.Empty,
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            ApplicationProtocols = alpn is null ? null : new List<SslApplicationProtocol>(alpn),
            EnabledSslProtocols = SslProtocols.None,
        };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _deadline);
        timeout.CancelAfter(_limits.ReadTimeout * 2);
        try
        {
            await ssl.AuthenticateAsClientAsync(options, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new GrabLimitException(GrabOutcome.IoTimeout, "the TLS handshake did not finish in time");
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or GrabLimitException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new GrabLimitException(GrabOutcome.HandshakeError, "TLS handshake failed: " + (ex.InnerException?.Message ?? ex.Message));
        }

        _stream = ssl;
        return ssl;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
        }

        _socket?.Dispose();
    }

    /// <summary>The raw stream seen by SslStream: the same caps and accounting as the connection itself.</summary>
    private sealed class CappedStream(GrabConnection owner) : DelegatingStream(owner._stream)
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var remaining = owner._limits.MaxBytesPerConnection - owner.BytesRead;
            if (remaining <= 0)
            {
                owner.Truncated = true;
                return 0;
            }

            if (buffer.Length > remaining)
            {
                buffer = buffer[..(int)remaining];
            }

            var n = await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref owner._bytesRead, n);
            return n;
        }
    }
}
