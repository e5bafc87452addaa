using System.Net;
using ExposureIndex.Rpc.Core;
using ExposureIndex.Rpc.Core.Internal;

namespace ExposureIndex.Rpc.Client;

/// <summary>The body of a single-message request, framed before the call starts.</summary>
internal sealed class PreframedRequestContent : HttpContent
{
    private const int Idle = 0;
    private const int Writing = 1;
    private const int Disposed = 2;

    private readonly PooledBufferWriter _framed;

    // The pooled buffer goes back to the pool only when no send is using it: a call can be disposed
    // (and its request with it) while HttpClient is still writing the body.
    private int _state;

    public PreframedRequestContent(PooledBufferWriter framed)
    {
        _framed = framed;
        Headers.TryAddWithoutValidation("Content-Type", GrpcProtocol.ContentType);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        // HttpClient may send the body more than once (it retries on a refused stream), so this is re-entrant.
        if (Interlocked.CompareExchange(ref _state, Writing, Idle) != Idle)
        {
            throw new ObjectDisposedException(nameof(PreframedRequestContent));
        }

        try
        {
            await stream.WriteAsync(_framed.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (Interlocked.CompareExchange(ref _state, Idle, Writing) == Disposed)
            {
                _framed.Dispose();
            }
        }
    }

    // No content-length: gRPC bodies are streams of frames, and peers must not rely on it.
    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            var previous = Interlocked.Exchange(ref _state, Disposed);
            if (previous == Idle)
            {
                _framed.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}

/// <summary>
/// The body of a streaming request. HttpClient hands us the HTTP/2 request stream once the HEADERS are
/// sent; the call writes frames into it and ends it (END_STREAM) via <see cref="Finish"/>.
/// </summary>
internal sealed class StreamingRequestContent : HttpContent
{
    private readonly TaskCompletionSource<Stream> _stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public StreamingRequestContent()
    {
        Headers.TryAddWithoutValidation("Content-Type", GrpcProtocol.ContentType);
    }

    public Task<Stream> StreamTask => _stream.Task;

    /// <summary>Ends the body: cleanly (END_STREAM) or by failing it (the stream gets reset).</summary>
    public void Finish(bool success)
    {
        if (success)
        {
            _done.TrySetResult();
        }
        else
        {
            _done.TrySetCanceled();
        }

        _stream.TrySetCanceled();
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        if (!_stream.TrySetResult(stream))
        {
            // A retried send (HttpClient resends after REFUSED_STREAM or GOAWAY) cannot replay a stream.
            throw new IOException("A streaming gRPC request body can be sent only once.");
        }

        await _done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
