using System.Buffers;
using System.Net.Sockets;
using ExposureIndex.Grabbers;

namespace ExposureIndex.Crawler.Fingerprinting;

/// <summary>
/// One probe connection with at most one read outstanding. A wait that times out does not cancel the read (a
/// cancelled socket or TLS read can leave the stream unusable): the same read keeps waiting while a probe is sent
/// on the same connection, as the NULL probe's connection does when it carries the first probe. Responses are
/// capped at <c>maxBytes</c>; closing the session ends any read still pending.
/// </summary>
internal sealed class ProbeSession : IAsyncDisposable
{
    private const int ChunkBytes = 4096;
    private readonly GrabConnection _connection;
    private readonly TimeProvider _time;
    private readonly int _maxBytes;
    private readonly byte[] _chunk = new byte[ChunkBytes];
    private readonly ArrayBufferWriter<byte> _data = new(1024);
    private Task<int>? _pending;
    private int _disposed;

    public ProbeSession(GrabConnection connection, TimeProvider time, int maxBytes)
    {
        _connection = connection;
        _time = time;
        _maxBytes = maxBytes;
        Opened = time.GetTimestamp();
    }

    public long Opened { get; }

    public ReadOnlySpan<byte> Data => _data.WrittenSpan;

    public int Length => _data.WrittenCount;

    /// <summary>The peer closed (or reset) the connection.</summary>
    public bool Closed { get; private set; }

    /// <summary>The response reached the byte cap.</summary>
    public bool Truncated { get; private set; }

    /// <summary>When the peer closed, relative to <see cref="Opened"/>.</summary>
    public TimeSpan? ClosedAfter { get; private set; }

    public GrabConnection Connection => _connection;

    public ValueTask WriteAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
        => payload.IsEmpty ? ValueTask.CompletedTask : _connection.WriteAsync(payload, cancellationToken);

    /// <summary>
    /// Reads until the first bytes arrive within <paramref name="firstWait"/>, then until the peer stays quiet for
    /// <paramref name="quietGap"/>, closes, the cap is reached, or <paramref name="isEnough"/> says the bytes so
    /// far are a whole answer. Returns true when anything new arrived.
    /// </summary>
    public async Task<bool> CollectAsync(TimeSpan firstWait, TimeSpan quietGap, Func<bool>? isEnough, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var before = Length;
        // Bounded: every pass either adds bytes towards the cap, or ends on close, timeout or cancellation.
        while (!Closed && !Truncated)
        {
            var wait = Length == before ? firstWait - _time.GetElapsedTime(started) : quietGap;
            if (wait <= TimeSpan.Zero)
            {
                break;
            }

            if (!await PumpAsync(wait, cancellationToken).ConfigureAwait(false))
            {
                break;
            }

            if (Length > before && isEnough is not null && isEnough())
            {
                break;
            }
        }

        return Length > before;
    }

    /// <summary>Waits up to <paramref name="wait"/> for one read; false when it did not complete in time (the read stays pending).</summary>
    private async Task<bool> PumpAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        _pending ??= StartRead(cancellationToken);
        if (!_pending.IsCompleted)
        {
            try
            {
                await _pending.WaitAsync(wait, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return false;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The read itself failed; handled below.
            }
        }

        var read = _pending;
        _pending = null;
        int n;
        try
        {
            n = await read.ConfigureAwait(false);
        }
        catch (GrabLimitException)
        {
            // The connection's own read timeout or the target's deadline: no more data on this read.
            return false;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            MarkClosed();
            return true;
        }

        if (n == 0)
        {
            if (_connection.Truncated)
            {
                Truncated = true;
            }
            else
            {
                MarkClosed();
            }

            return true;
        }

        var room = _maxBytes - _data.WrittenCount;
        var keep = Math.Min(n, room);
        _chunk.AsSpan(0, keep).CopyTo(_data.GetSpan(keep));
        _data.Advance(keep);
        if (_data.WrittenCount >= _maxBytes)
        {
            Truncated = true;
        }

        return true;
    }

    private void MarkClosed()
    {
        Closed = true;
        ClosedAfter ??= _time.GetElapsedTime(Opened);
    }

    private Task<int> StartRead(CancellationToken cancellationToken)
    {
        // The read is not tied to one wait's token: only the session's end (dispose) or the target's token stops it.
        return _connection.ReadAsync(_chunk, cancellationToken).AsTask();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or GrabLimitException)
        {
        }

        if (_pending is { } pending)
        {
            // Closing the connection ends the read; observe its fault so it is never reported as unobserved.
            _ = pending.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }
}
