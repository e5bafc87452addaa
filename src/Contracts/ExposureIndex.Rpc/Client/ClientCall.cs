using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using ExposureIndex.Rpc.Core;
using ExposureIndex.Rpc.Core.Internal;

namespace ExposureIndex.Rpc.Client;

/// <summary>What the public call objects need from a call, whatever its message types.</summary>
internal interface IClientCallState : IDisposable
{
    Task<Metadata> ResponseHeadersAsync { get; }

    Status GetStatus();

    Metadata GetTrailers();
}

/// <summary>
/// One client call over HttpClient (HTTP/2, h2c with prior knowledge for http:// addresses).
/// The final status comes from, in order: the trailers after the body was read to its end, the headers
/// (Trailers-Only), then the HTTP status (grpc/doc/http-grpc-status-mapping.md). Transport failures map
/// as PROTOCOL-HTTP2 "Errors" and "Connection failure" say. The deadline is sent as grpc-timeout and
/// enforced here too; cancellation disposes the response, which resets the stream (RST_STREAM CANCEL).
/// </summary>
internal sealed class ClientCall<TRequest, TResponse> : IClientCallState
{
    private static readonly TimeSpan MaxTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);
    private static readonly StreamPipeReaderOptions ResponseReaderOptions = new(bufferSize: 64 * 1024, minimumReadSize: 8 * 1024);
    private static readonly StreamPipeWriterOptions RequestWriterOptions = new(minimumBufferSize: 64 * 1024, leaveOpen: true);
    private const string StartingTheCall = "starting the call";

    private readonly RpcChannel _channel;
    private readonly Method<TRequest, TResponse> _method;
    private readonly CallOptions _options;
    private readonly CancellationTokenSource _callCts;
    private readonly TaskCompletionSource<Metadata> _headers = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _sync = new();
    private CancellationTokenRegistration _cancelRegistration;
    private HttpRequestMessage? _request;
    private StreamingRequestContent? _streamingContent;
    private Task<HttpResponseMessage?> _send = Task.FromResult<HttpResponseMessage?>(null);
    private HttpResponseMessage? _response;
    private PipeReader? _responsePipe;
    private PipeMessageReader<TResponse>? _reader;
    private PipeWriter? _requestPipe;
    private PipeMessageWriter? _requestWriter;
    private bool _requestCompleted;
    private Status? _status;
    private Metadata? _trailers;
    private bool _disposing;
    private DateTime _deadline = DateTime.MaxValue;

    public ClientCall(RpcChannel channel, Method<TRequest, TResponse> method, CallOptions options)
    {
        _channel = channel;
        _method = method;
        _options = options;
        _callCts = options.CancellationToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(options.CancellationToken)
            : new CancellationTokenSource();
    }

    public Task<Metadata> ResponseHeadersAsync => _headers.Task;

    /// <summary>Starts a call whose single request is known now (unary, server streaming).</summary>
    public void Start(TRequest request)
    {
        PooledBufferWriter framed;
        try
        {
            ArgumentNullException.ThrowIfNull(request);
            framed = BufferedFraming.Frame(request, _method.RequestMarshaller.ContextualSerializer, _channel.Options.MaxSendMessageSize);
        }
        catch (RpcException ex)
        {
            Finish(ex.Status, null, abort: true);
            return;
        }
        catch (Exception ex) when (ex is not ArgumentNullException)
        {
            Finish(new Status(StatusCode.Internal, $"Failed to serialize the {typeof(TRequest).Name} request: {ex.Message}"), null, abort: true);
            return;
        }

        StartCore(new PreframedRequestContent(framed));
    }

    /// <summary>Starts a call with a request stream (client streaming, duplex).</summary>
    public void StartStreaming()
    {
        _streamingContent = new StreamingRequestContent();
        StartCore(_streamingContent);
    }

    public Status GetStatus()
    {
        lock (_sync)
        {
            return _status ?? throw new InvalidOperationException("Unable to get the status because the call is not complete.");
        }
    }

    public Metadata GetTrailers()
    {
        lock (_sync)
        {
            return _status is null
                ? throw new InvalidOperationException("Unable to get the trailers because the call is not complete.")
                : _trailers!;
        }
    }

    /// <summary>Reads the single response of a unary or client-streaming call, and its status.</summary>
    public async Task<TResponse> ReadSingleResponseAsync()
    {
        var got = false;
        TResponse message = default!;
        try
        {
            got = await ReadRawAsync(CancellationToken.None).ConfigureAwait(false);
            if (got)
            {
                message = _reader!.Current;
                if (await ReadRawAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    Finish(new Status(StatusCode.Internal, "The server sent more than the one response message this method expects."), null, abort: true);
                }
            }
        }
        catch (Exception ex)
        {
            throw Fail(ex);
        }

        FinishFromTrailers(requireMessage: !got);
        CompleteResponsePipe();
        var (status, trailers) = Snapshot();
        return status.StatusCode == StatusCode.OK ? message : throw new RpcException(status, trailers);
    }

    /// <summary>Reads the next message of a streaming response; a non-OK status at the end throws.</summary>
    public async Task<bool> MoveNextAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (await ReadRawAsync(cancellationToken).ConfigureAwait(false))
            {
                return true;
            }
        }
        catch (Exception ex)
        {
            throw Fail(ex);
        }

        FinishFromTrailers(requireMessage: false);
        CompleteResponsePipe();
        var (status, trailers) = Snapshot();
        return status.StatusCode == StatusCode.OK ? false : throw new RpcException(status, trailers);
    }

    public TResponse Current => _reader is null ? default! : _reader.Current;

    public async Task WriteRequestAsync(TRequest message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ThrowIfCannotWrite();
        var writer = _requestWriter ?? await GetRequestWriterAsync().ConfigureAwait(false);
        using var registration = RegisterUserToken(cancellationToken);
        try
        {
            await writer.WriteAsync(message, _method.RequestMarshaller.ContextualSerializer, _callCts.Token).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted && !IsFinished)
        {
            // Our own send limit: the call fails as a whole (the message was not sent).
            Finish(ex.Status, null, abort: true);
            throw;
        }
        catch (Exception ex)
        {
            throw WriteFailure(ex);
        }
    }

    public async Task CompleteRequestAsync()
    {
        lock (_sync)
        {
            if (_requestCompleted)
            {
                return;
            }

            _requestCompleted = true;
            if (_status is not null)
            {
                return;
            }
        }

        try
        {
            var writer = _requestWriter ?? await GetRequestWriterAsync().ConfigureAwait(false);
            if (await writer.TryCloseAsync(flush: true).ConfigureAwait(false))
            {
                await _requestPipe!.CompleteAsync().ConfigureAwait(false);
            }

            _streamingContent!.Finish(success: true);
        }
        catch (Exception ex)
        {
            throw WriteFailure(ex);
        }
    }

    public void Dispose()
    {
        _disposing = true;
        Finish(new Status(StatusCode.Cancelled, "The call was disposed before it completed."), null, abort: true);
        _cancelRegistration.Dispose();
        _requestWriter?.Dispose();
        _request?.Dispose();
        _callCts.Dispose();
    }

    private bool IsFinished
    {
        get
        {
            lock (_sync)
            {
                return _status is not null;
            }
        }
    }

    private void StartCore(HttpContent content)
    {
        TimeSpan? timeout = null;
        if (_options.Deadline is { } deadline && deadline != DateTime.MaxValue)
        {
            _deadline = deadline.ToUniversalTime();
            var remaining = _deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                content.Dispose();
                Finish(new Status(StatusCode.DeadlineExceeded, "Deadline exceeded before the call started."), null, abort: true);
                return;
            }

            timeout = remaining;
        }

        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_channel.Address, _method.FullName))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };

        // PROTOCOL-HTTP2 "Requests": Timeout right after the pseudo-headers, then the call definition,
        // then custom metadata.
        var headers = request.Headers;
        if (timeout is { } t)
        {
            headers.TryAddWithoutValidation(GrpcProtocol.TimeoutHeader, GrpcTimeout.Format(t));
        }

        headers.TryAddWithoutValidation("te", "trailers");
        headers.TryAddWithoutValidation(GrpcProtocol.AcceptEncodingHeader, GrpcProtocol.IdentityEncoding);
        headers.TryAddWithoutValidation("user-agent", RpcChannel.UserAgent);
        if (_options.Headers is { } metadata)
        {
            foreach (var entry in metadata)
            {
                headers.TryAddWithoutValidation(entry.Key, entry.WireValue);
            }
        }

        _request = request;
        _cancelRegistration = _callCts.Token.UnsafeRegister(static state => ((ClientCall<TRequest, TResponse>)state!).OnCancelled(), this);
        if (timeout is { } armed && armed < MaxTimer)
        {
            _callCts.CancelAfter(armed);
        }

        _send = SendAsync(request);
    }

    private async Task<HttpResponseMessage?> SendAsync(HttpRequestMessage request)
    {
        HttpResponseMessage response;
        try
        {
            response = await _channel.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, _callCts.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Finish(StatusFromException(ex, StartingTheCall), null, abort: true);
            return null;
        }

        lock (_sync)
        {
            _response = response;
            if (_status is not null)
            {
                response.Dispose();
                return null;
            }
        }

        if (TryReadStatus(response.Headers, out var trailersOnly))
        {
            // Trailers-Only: the status (and trailing metadata) came in the only HEADERS frame.
            var metadata = ReadMetadata(response.Headers);
            _headers.TrySetResult(metadata);
            if (trailersOnly.StatusCode == StatusCode.OK && _method.Type is MethodType.Unary or MethodType.ClientStreaming)
            {
                trailersOnly = new Status(StatusCode.Internal, "The server ended the call with OK but without the response message this method expects.");
            }

            Finish(trailersOnly, metadata, abort: trailersOnly.StatusCode != StatusCode.OK);
            return null;
        }

        var httpStatus = (int)response.StatusCode;
        if (httpStatus != 200)
        {
            Finish(new Status(StatusMapping.FromHttpStatus(httpStatus), string.Create(CultureInfo.InvariantCulture, $"Bad gRPC response: HTTP status {httpStatus} ({response.ReasonPhrase}) without grpc-status.")), null, abort: true);
            return null;
        }

        var contentType = response.Content.Headers.NonValidated.TryGetValues("Content-Type", out var values) ? values.ToString() : null;
        if (!GrpcProtocol.IsGrpcContentType(contentType))
        {
            Finish(new Status(StatusCode.Unknown, $"Bad gRPC response: content-type '{contentType}' is not application/grpc."), null, abort: true);
            return null;
        }

        _headers.TrySetResult(ReadMetadata(response.Headers));
        return response;
    }

    private async ValueTask<bool> ReadRawAsync(CancellationToken cancellationToken)
    {
        var response = await _send.ConfigureAwait(false);
        if (response is null)
        {
            return false;
        }

        using var registration = RegisterUserToken(cancellationToken);
        if (_reader is null)
        {
            var stream = await response.Content.ReadAsStreamAsync(_callCts.Token).ConfigureAwait(false);
            _responsePipe = PipeReader.Create(stream, ResponseReaderOptions);
            _reader = new PipeMessageReader<TResponse>(_responsePipe, _channel.Options.MaxReceiveMessageSize, _method.ResponseMarshaller.ContextualDeserializer);
        }

        return await _reader.ReadNextAsync(_callCts.Token).ConfigureAwait(false);
    }

    /// <summary>Sets the status from the trailers once the body has been read to its end.</summary>
    private void FinishFromTrailers(bool requireMessage)
    {
        if (IsFinished)
        {
            return;
        }

        var response = _response!;
        Status status;
        Metadata trailers;
        if (TryReadStatus(response.TrailingHeaders, out status))
        {
            trailers = ReadMetadata(response.TrailingHeaders);
        }
        else if (TryReadStatus(response.Headers, out status))
        {
            trailers = ReadMetadata(response.Headers);
        }
        else
        {
            // grpc/doc/http-grpc-status-mapping.md: a 200 without grpc-status is UNKNOWN.
            status = new Status(StatusCode.Unknown, "The response ended without grpc-status in its trailers or headers.");
            trailers = new Metadata();
        }

        if (requireMessage && status.StatusCode == StatusCode.OK)
        {
            status = new Status(StatusCode.Internal, "The server ended the call with OK but without the response message this method expects.");
        }

        Finish(status, trailers, abort: status.StatusCode != StatusCode.OK);
    }

    private async Task<PipeMessageWriter> GetRequestWriterAsync()
    {
        Stream stream;
        try
        {
            stream = await _streamingContent!.StreamTask.WaitAsync(_callCts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex)
        {
            throw WriteFailure(ex);
        }

        lock (_sync)
        {
            if (_requestWriter is null)
            {
                _requestPipe = PipeWriter.Create(stream, RequestWriterOptions);
                _requestWriter = new PipeMessageWriter(_requestPipe, _channel.Options.MaxSendMessageSize, _callCts.Token);
            }

            return _requestWriter;
        }
    }

    private void ThrowIfCannotWrite()
    {
        lock (_sync)
        {
            if (_status is { } status)
            {
                throw status.StatusCode == StatusCode.OK
                    ? new InvalidOperationException("The call is already complete; the request stream is closed.")
                    : new RpcException(status, _trailers!);
            }

            if (_requestCompleted)
            {
                throw new InvalidOperationException("The request stream has already been completed.");
            }
        }
    }

    /// <summary>
    /// A failed write: report the call's status when it is known. Otherwise the server probably ended
    /// the stream and its real status is still on the way, so the call is left for the reader to finish.
    /// </summary>
    private Exception WriteFailure(Exception exception)
    {
        lock (_sync)
        {
            if (_status is { } status)
            {
                return status.StatusCode == StatusCode.OK
                    ? new InvalidOperationException("The call completed while writing; the request stream is closed.", exception)
                    : new RpcException(status, _trailers!);
            }
        }

        return exception is RpcException rpc ? rpc : new RpcException(StatusFromException(exception, "writing the request"), exception);
    }

    /// <summary>Returns the response pipe's pooled buffers; only the reading path calls it.</summary>
    private void CompleteResponsePipe()
    {
        var pipe = _responsePipe;
        _responsePipe = null;
        pipe?.Complete();
    }

    private RpcException Fail(Exception exception)
    {
        Finish(StatusFromException(exception, "reading the response"), null, abort: true);
        CompleteResponsePipe();
        var (status, trailers) = Snapshot();
        return new RpcException(status, trailers);
    }

    private (Status Status, Metadata Trailers) Snapshot()
    {
        lock (_sync)
        {
            return (_status ?? Status.DefaultSuccess, _trailers ?? new Metadata());
        }
    }

    private CancellationTokenRegistration RegisterUserToken(CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static state => ((ClientCall<TRequest, TResponse>)state!).Finish(new Status(StatusCode.Cancelled, "The call was cancelled by the client."), null, abort: true), this)
            : default;

    private void OnCancelled()
    {
        var status = _disposing || _options.CancellationToken.IsCancellationRequested
            ? new Status(StatusCode.Cancelled, "The call was cancelled by the client.")
            : new Status(StatusCode.DeadlineExceeded, "Deadline exceeded.");
        Finish(status, null, abort: true);
    }

    /// <summary>Records the final status once; aborting resets the HTTP/2 stream.</summary>
    private bool Finish(Status status, Metadata? trailers, bool abort)
    {
        // PROTOCOL-HTTP2 "Client Cancellation": a CANCELLED that we did not ask for, after our deadline,
        // is the deadline (e.g. the server's RST_STREAM raced our timer); built locally, ignoring trailers.
        if (status.StatusCode == StatusCode.Cancelled && !_disposing && !_options.CancellationToken.IsCancellationRequested && DateTime.UtcNow >= _deadline)
        {
            status = new Status(StatusCode.DeadlineExceeded, "Deadline exceeded.");
            trailers = null;
        }

        HttpResponseMessage? response;
        lock (_sync)
        {
            if (_status is not null)
            {
                return false;
            }

            _status = status;
            _trailers = trailers ?? new Metadata();
            response = _response;
        }

        if (status.StatusCode != StatusCode.OK)
        {
            var failure = new RpcException(status, _trailers);
            if (_headers.TrySetException(failure))
            {
                // Observed here so that a caller who never asks for headers leaves no unobserved exception.
                _ = _headers.Task.Exception;
            }
        }
        else
        {
            _headers.TrySetResult(new Metadata());
        }

        _streamingContent?.Finish(success: !abort);
        if (!abort)
        {
            // Done: disarm the deadline timer so an undisposed call holds no timer until its deadline.
            _cancelRegistration.Unregister();
            try
            {
                _callCts.CancelAfter(Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
            }
        }

        if (abort)
        {
            try
            {
                _callCts.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }

            // Disposing an unfinished response resets the stream (RST_STREAM CANCEL).
            response?.Dispose();
        }
        else
        {
            response?.Dispose();
        }

        return true;
    }

    private static Status StatusFromException(Exception exception, string during)
    {
        if (exception is RpcException rpc)
        {
            return rpc.Status;
        }

        if (exception is OperationCanceledException)
        {
            return new Status(StatusCode.Cancelled, "The call was cancelled.");
        }

        var httpError = FindHttpRequestError(exception);
        var protocolError = FindInner<HttpProtocolException>(exception);
        var detail = $"Error {during}: {exception.GetType().Name}: {exception.Message}";
        if (protocolError is not null)
        {
            // PROTOCOL-HTTP2 "Errors": RST_STREAM codes map onto gRPC codes.
            return new Status(StatusMapping.FromHttp2ErrorCode(protocolError.ErrorCode), detail);
        }

        // While starting, a peer that is not (or not yet) a working HTTP/2 server is a connection
        // failure: "If a detectable connection failure occurs on the client all calls will be closed
        // with an UNAVAILABLE status." Once the response has begun, a malformed one is INTERNAL.
        var starting = ReferenceEquals(during, StartingTheCall);
        var code = httpError switch
        {
            HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError
                or HttpRequestError.ProxyTunnelError or HttpRequestError.VersionNegotiationError or HttpRequestError.ResponseEnded => StatusCode.Unavailable,
            HttpRequestError.UserAuthenticationError => StatusCode.Unauthenticated,
            HttpRequestError.ConfigurationLimitExceeded => StatusCode.Internal,
            HttpRequestError.InvalidResponse or HttpRequestError.HttpProtocolError or HttpRequestError.ExtendedConnectNotSupported
                => starting ? StatusCode.Unavailable : StatusCode.Internal,
            _ when FindInner<SocketException>(exception) is not null || exception is IOException or HttpRequestException => StatusCode.Unavailable,
            _ => StatusCode.Internal,
        };
        return new Status(code, detail);
    }

    private static HttpRequestError? FindHttpRequestError(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case HttpRequestException { HttpRequestError: not HttpRequestError.Unknown } hre:
                    return hre.HttpRequestError;
                case HttpIOException { HttpRequestError: not HttpRequestError.Unknown } hio:
                    return hio.HttpRequestError;
            }
        }

        return null;
    }

    private static T? FindInner<T>(Exception exception)
        where T : Exception
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is T match)
            {
                return match;
            }
        }

        return null;
    }

    private static bool TryReadStatus(HttpHeaders headers, out Status status)
    {
        status = default;
        if (!headers.NonValidated.TryGetValues(GrpcProtocol.StatusHeader, out var values))
        {
            return false;
        }

        var text = values.ToString();
        var detail = headers.NonValidated.TryGetValues(GrpcProtocol.MessageHeader, out var message)
            ? StatusMessageEncoding.Decode(message.ToString())
            : string.Empty;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code))
        {
            status = new Status(StatusCode.Unknown, $"The response carried an invalid grpc-status '{text}' (message: {detail}).");
        }
        else if (!Enum.IsDefined((StatusCode)code))
        {
            status = new Status(StatusCode.Unknown, string.Create(CultureInfo.InvariantCulture, $"The response carried the undefined grpc-status {code} (message: {detail})."));
        }
        else
        {
            status = new Status((StatusCode)code, detail);
        }

        return true;
    }

    private static Metadata ReadMetadata(HttpHeaders headers)
    {
        var metadata = new Metadata();
        foreach (var (key, values) in headers.NonValidated)
        {
            foreach (var value in values)
            {
                metadata.AddReceived(key, value);
            }
        }

        return metadata;
    }
}
