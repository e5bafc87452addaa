using System.Globalization;
using System.Net.Sockets;
using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Crawler.Engine;

/// <summary>
/// The v1 reader, nmap's NULL probe followed by its GetRequest probe, cut down: wait up to BannerWait for a
/// talk-first service; on an HTTP port, send <c>GET /</c> if it stays silent; then keep reading until the peer
/// closes, the HTTP framing says the response is complete, a read waits ReadTimeout in vain, the byte cap is
/// reached, or the per-target deadline (the token) ends it.
/// </summary>
/// <remarks>
/// At most one read is outstanding, and a timed-out wait does not cancel it: the same read keeps waiting while
/// the probe is sent, because cancelling a socket read may leave the socket unusable. Buffers grow only between
/// reads, so an abandoned read never writes into memory that is in use.
/// </remarks>
internal sealed class FirstBannerReader : IBannerReader
{
    private const int InitialBufferBytes = 4096;

    public static FirstBannerReader Instance { get; } = new();

    public async ValueTask<BannerResult> ReadAsync(BannerSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var limits = session.Limits;
        var buffer = new byte[Math.Min(limits.MaxBytes, InitialBufferBytes)];
        var filled = 0;
        var probed = false;
        Task<int>? pending = null;
        try
        {
            pending = StartRead(session.Stream, buffer, filled, cancellationToken);
            if (!await CompletesWithinAsync(pending, limits.BannerWait, session.Time, cancellationToken).ConfigureAwait(false))
            {
                if (!session.IsHttpPort)
                {
                    return new BannerResult(GrabOutcome.IoTimeout, ReadOnlyMemory<byte>.Empty)
                    {
                        Error = $"no banner within {Seconds(limits.BannerWait)}",
                    };
                }

                await session.Stream.WriteAsync(session.HttpRequest, cancellationToken).ConfigureAwait(false);
                probed = true;
                if (!await CompletesWithinAsync(pending, limits.ReadTimeout, session.Time, cancellationToken).ConfigureAwait(false))
                {
                    return new BannerResult(GrabOutcome.IoTimeout, ReadOnlyMemory<byte>.Empty)
                    {
                        Error = $"no response to GET / within {Seconds(limits.ReadTimeout)}",
                    };
                }
            }

            // Bounded: every pass either adds at least one byte towards MaxBytes or leaves the loop.
            while (true)
            {
                var read = await pending.ConfigureAwait(false);
                pending = null;
                if (read == 0)
                {
                    return Finish(GrabOutcome.Success, buffer, filled, probed, session, error: null);
                }

                filled += read;
                if (filled >= limits.MaxBytes)
                {
                    return Finish(GrabOutcome.Success, buffer, filled, probed, session, error: null) with { Truncated = true };
                }

                if (HttpProbe.IsComplete(buffer.AsSpan(0, filled)))
                {
                    return Finish(GrabOutcome.Success, buffer, filled, probed, session, error: null);
                }

                if (filled == buffer.Length)
                {
                    Array.Resize(ref buffer, Math.Min(limits.MaxBytes, buffer.Length * 2));
                }

                pending = StartRead(session.Stream, buffer, filled, cancellationToken);
                if (!await CompletesWithinAsync(pending, limits.ReadTimeout, session.Time, cancellationToken).ConfigureAwait(false))
                {
                    // The peer went quiet after talking: the usual end of a talk-first banner (SSH, SMTP, FTP).
                    return Finish(GrabOutcome.Success, buffer, filled, probed, session, error: null);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The per-target deadline: keep what arrived.
            return Finish(GrabOutcome.IoTimeout, buffer, filled, probed, session,
                filled == 0 ? "per-target deadline reached before any data" : string.Create(CultureInfo.InvariantCulture, $"per-target deadline reached after {filled} bytes"));
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            var reason = (e as SocketException ?? e.InnerException as SocketException)?.SocketErrorCode switch
            {
                SocketError.ConnectionReset => "connection reset by peer",
                SocketError.ConnectionAborted => "connection aborted",
                _ => e.Message,
            };
            return filled == 0
                ? new BannerResult(GrabOutcome.Closed, ReadOnlyMemory<byte>.Empty) { Error = reason }
                : Finish(GrabOutcome.Success, buffer, filled, probed, session, string.Create(CultureInfo.InvariantCulture, $"{reason} after {filled} bytes"));
        }
        finally
        {
            if (pending is { IsCompleted: false })
            {
                // Closing the connection ends the read; observe its fault so it is not reported as unobserved.
                session.Abort();
                _ = pending.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                    TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
    }

    private static BannerResult Finish(GrabOutcome outcome, byte[] buffer, int filled, bool probed, BannerSession session, string? error)
    {
        if (filled == 0 && outcome == GrabOutcome.Success)
        {
            return new BannerResult(GrabOutcome.Closed, ReadOnlyMemory<byte>.Empty)
            {
                Error = probed ? "closed by peer without answering GET /" : "closed by peer without sending data",
            };
        }

        var data = buffer.AsMemory(0, filled);
        return new BannerResult(outcome, data)
        {
            Error = error,
            Module = ModuleGuess.FromBanner(data.Span, session.Remote.Port),
        };
    }

    private static Task<int> StartRead(Stream stream, byte[] buffer, int filled, CancellationToken cancellationToken)
        => stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).AsTask();

    /// <summary>Waits for <paramref name="read"/> up to <paramref name="timeout"/> without cancelling it.</summary>
    private static async Task<bool> CompletesWithinAsync(Task<int> read, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        if (read.IsCompleted)
        {
            return true;
        }

        try
        {
            await read.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static string Seconds(TimeSpan value) => string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds:0.###} s");
}
