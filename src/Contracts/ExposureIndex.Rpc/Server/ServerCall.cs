using System.Globalization;
using System.Net.Sockets;
using ExposureIndex.Rpc.Core;
using ExposureIndex.Rpc.Core.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace ExposureIndex.Rpc.Server;

/// <summary>
/// One server call, independent of message types: deadline, response writer, and the final status
/// (in trailers once the body has started, otherwise Trailers-Only in the headers; PROTOCOL-HTTP2 "Responses").
/// </summary>
internal sealed class ServerCall : IDisposable
{
    // CancellationTokenSource.CancelAfter accepts at most uint.MaxValue - 1 milliseconds (~49 days);
    // longer deadlines are treated as none.
    private static readonly TimeSpan MaxTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly RpcServerOptions _options;
    private readonly ILogger _logger;
    private CancellationTokenSource? _deadlineCts;
    private CancellationTokenSource? _callCts;
    private CancellationTokenRegistration _deadlineRegistration;
    private string? _timeoutText;
    private int _deadlineHit;
    private Task? _deadlineCompletion;

    public ServerCall(HttpContext httpContext, string methodName, RpcServerOptions options, ILogger logger)
    {
        HttpContext = httpContext;
        MethodName = methodName;
        _options = options;
        _logger = logger;
        CallToken = httpContext.RequestAborted;
        Context = new ServerCallContext(this);
    }

    public HttpContext HttpContext { get; }

    public string MethodName { get; }

    public ServerCallContext Context { get; }

    public CancellationToken CallToken { get; private set; }

    public DateTime Deadline { get; private set; } = DateTime.MaxValue;

    /// <summary>The response writer; set by <see cref="Start"/>.</summary>
    public PipeMessageWriter Writer { get; private set; } = null!;

    public bool DeadlineHit => Volatile.Read(ref _deadlineHit) != 0;

    public string Peer
    {
        get
        {
            var connection = HttpContext.Connection;
            if (connection.RemoteIpAddress is null)
            {
                return "unknown";
            }

            var family = connection.RemoteIpAddress.AddressFamily == AddressFamily.InterNetworkV6 ? "ipv6:[" + connection.RemoteIpAddress + "]" : "ipv4:" + connection.RemoteIpAddress;
            return string.Create(CultureInfo.InvariantCulture, $"{family}:{connection.RemotePort}");
        }
    }

    /// <summary>
    /// Checks what only a gRPC request can have (HTTP/2, gRPC content type). Writes the HTTP error and
    /// returns false otherwise: 426 for other protocols, 415 for other content types.
    /// </summary>
    public static bool AcceptTransport(HttpContext http, ILogger logger)
    {
        var request = http.Request;
        if (!HttpProtocol.IsHttp2(request.Protocol))
        {
            ServerLog.UnsupportedProtocol(logger, request.Path.Value ?? "/", request.Protocol);
            // RFC 9110 §15.5.22: a 426 response carries Upgrade naming the protocol to switch to.
            http.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            http.Response.Headers.Upgrade = request.IsHttps ? "h2" : "h2c";
            http.Response.Headers.Connection = "Upgrade";
            SetStatusHeaders(http.Response, new Status(StatusCode.Internal, $"Request protocol '{request.Protocol}' is not supported; gRPC needs HTTP/2."));
            return false;
        }

        if (!GrpcProtocol.IsGrpcContentType(request.ContentType))
        {
            // PROTOCOL-HTTP2: a content type not starting with application/grpc gets 415, so that no
            // plain HTTP/2 client mistakes a gRPC error (HTTP 200) for success.
            ServerLog.UnsupportedContentType(logger, request.Path.Value ?? "/", request.ContentType ?? string.Empty);
            http.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            SetStatusHeaders(http.Response, new Status(StatusCode.Internal, $"Content-Type '{request.ContentType}' is not supported; gRPC needs application/grpc."));
            return false;
        }

        return true;
    }

    /// <summary>Ends a call before it started, with a Trailers-Only response.</summary>
    public static void WriteTrailersOnly(HttpResponse response, Status status, bool advertiseEncoding)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcProtocol.ContentType;
        if (advertiseEncoding)
        {
            response.Headers[GrpcProtocol.AcceptEncodingHeader] = GrpcProtocol.IdentityEncoding;
        }

        SetStatusHeaders(response, status);
    }

    /// <summary>
    /// Prepares the call: lifts Kestrel's per-request limits that do not suit long-lived streams, rejects
    /// compressed requests and bad timeouts, arms the deadline and sets the response headers.
    /// Returns false when the call was already answered.
    /// </summary>
    public bool Start()
    {
        var features = HttpContext.Features;

        // A gRPC stream is unbounded: message sizes are limited per message, not per request body.
        var maxBody = features.Get<IHttpMaxRequestBodySizeFeature>();
        if (maxBody is { IsReadOnly: false })
        {
            maxBody.MaxRequestBodySize = null;
        }

        // A duplex stream may stay quiet for minutes; Kestrel's minimum data rates would cut it.
        if (features.Get<IHttpMinRequestBodyDataRateFeature>() is { } minRequestRate)
        {
            minRequestRate.MinDataRate = null;
        }

        if (features.Get<IHttpMinResponseDataRateFeature>() is { } minResponseRate)
        {
            minResponseRate.MinDataRate = null;
        }

        var headers = HttpContext.Request.Headers;
        var encoding = headers[GrpcProtocol.EncodingHeader];
        if (!StringValues.IsNullOrEmpty(encoding) && !string.Equals(encoding.ToString(), GrpcProtocol.IdentityEncoding, StringComparison.Ordinal))
        {
            ServerLog.UnsupportedEncoding(_logger, MethodName, encoding.ToString());
            WriteTrailersOnly(HttpContext.Response, new Status(StatusCode.Unimplemented, $"Message encoding '{encoding}' is not supported; this server accepts: identity."), advertiseEncoding: true);
            return false;
        }

        var timeoutHeader = headers[GrpcProtocol.TimeoutHeader];
        TimeSpan? timeout = null;
        if (!StringValues.IsNullOrEmpty(timeoutHeader))
        {
            _timeoutText = timeoutHeader.ToString();
            if (!GrpcTimeout.TryParse(_timeoutText, out var parsed))
            {
                ServerLog.InvalidTimeout(_logger, MethodName, _timeoutText);
                WriteTrailersOnly(HttpContext.Response, new Status(StatusCode.Internal, $"Request header grpc-timeout '{_timeoutText}' is invalid: expected 1-8 digits and a unit (H M S m u n)."), advertiseEncoding: true);
                return false;
            }

            timeout = parsed;
        }

        var response = HttpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcProtocol.ContentType;
        response.Headers[GrpcProtocol.AcceptEncodingHeader] = GrpcProtocol.IdentityEncoding;

        if (timeout is { } t && t < MaxTimer)
        {
            Deadline = DateTime.UtcNow + t;
            _deadlineCts = new CancellationTokenSource();
            _callCts = CancellationTokenSource.CreateLinkedTokenSource(HttpContext.RequestAborted, _deadlineCts.Token);
            CallToken = _callCts.Token;
        }

        Writer = new PipeMessageWriter(response.BodyWriter, _options.MaxSendMessageSize, CallToken);
        if (_deadlineCts is not null)
        {
            // Armed last: the callback may run at once (grpc-timeout 0) and needs the writer.
            _deadlineRegistration = _deadlineCts.Token.UnsafeRegister(static state => ((ServerCall)state!).OnDeadline(), this);
            _deadlineCts.CancelAfter(timeout!.Value);
        }

        return true;
    }

    public Metadata ReadRequestHeaders()
    {
        var metadata = new Metadata();
        foreach (var (key, values) in HttpContext.Request.Headers)
        {
            foreach (var value in values)
            {
                if (value is not null)
                {
                    metadata.AddReceived(key, value);
                }
            }
        }

        return metadata;
    }

    public async Task WriteResponseHeadersAsync(Metadata responseHeaders)
    {
        ArgumentNullException.ThrowIfNull(responseHeaders);
        var response = HttpContext.Response;
        var wrote = await Writer.RunIfOpenAsync(async () =>
        {
            if (response.HasStarted || Writer.HasWrittenMessages)
            {
                throw new InvalidOperationException("Response headers can be written only once, before the first response message.");
            }

            foreach (var entry in responseHeaders)
            {
                response.Headers.Append(entry.Key, entry.WireValue);
            }

            // An empty flush sends the HEADERS frame now.
            await response.BodyWriter.FlushAsync(CallToken).ConfigureAwait(false);
        }).ConfigureAwait(false);

        if (!wrote)
        {
            throw new InvalidOperationException("The call is already complete; response headers can no longer be written.");
        }
    }

    /// <summary>Maps what a handler threw to the status the client gets, logging as appropriate.</summary>
    public (Status Status, Metadata? Trailers) StatusFromException(Exception exception)
    {
        switch (exception)
        {
            case RpcException rpc:
                ServerLog.CallFailed(_logger, MethodName, rpc.StatusCode, rpc.Status.Detail);
                return (rpc.Status, rpc.Trailers);
            case OperationCanceledException or IOException when DeadlineHit:
                return (new Status(StatusCode.DeadlineExceeded, "Deadline exceeded."), null);
            case OperationCanceledException or IOException when HttpContext.RequestAborted.IsCancellationRequested:
                ServerLog.CallCancelled(_logger, MethodName);
                return (new Status(StatusCode.Cancelled, "The call was cancelled by the client."), null);
            default:
                ServerLog.HandlerFailed(_logger, MethodName, StatusCode.Unknown, exception);
                var detail = _options.IncludeExceptionDetails
                    ? $"Exception was thrown by handler: {exception.GetType().Name}: {exception.Message}"
                    : "Exception was thrown by handler.";
                return (new Status(StatusCode.Unknown, detail), null);
        }
    }

    /// <summary>
    /// Sends the final status once. Later calls (e.g. the handler returning after its deadline fired)
    /// do nothing. Returns true when this call sent it.
    /// </summary>
    public async Task<bool> CompleteAsync(Status status, Metadata? extraTrailers)
    {
        if (!await Writer.TryCloseAsync(flush: false).ConfigureAwait(false))
        {
            return false;
        }

        if (Writer.IsCorrupted)
        {
            ServerLog.CorruptResponse(_logger, MethodName);
            HttpContext.Abort();
            return true;
        }

        if (HttpContext.RequestAborted.IsCancellationRequested)
        {
            // The stream is reset; nothing can reach the client.
            return true;
        }

        var response = HttpContext.Response;
        if (!Writer.HasWrittenMessages && !response.HasStarted)
        {
            // Trailers-Only: the status travels in the single HEADERS frame that ends the stream.
            SetStatusHeaders(response, status);
            AppendMetadata(response.Headers, Context.ResponseTrailers);
            AppendMetadata(response.Headers, extraTrailers);
        }
        else
        {
            response.AppendTrailer(GrpcProtocol.StatusHeader, ((int)status.StatusCode).ToString(CultureInfo.InvariantCulture));
            if (!string.IsNullOrEmpty(status.Detail))
            {
                response.AppendTrailer(GrpcProtocol.MessageHeader, StatusMessageEncoding.Encode(status.Detail));
            }

            foreach (var metadata in new[] { Context.ResponseTrailers, extraTrailers })
            {
                if (metadata is null)
                {
                    continue;
                }

                foreach (var entry in metadata)
                {
                    response.AppendTrailer(entry.Key, entry.WireValue);
                }
            }
        }

        return true;
    }

    public void Dispose()
    {
        _deadlineRegistration.Dispose();
        _callCts?.Dispose();
        _deadlineCts?.Dispose();
        Writer?.Dispose();
    }

    /// <summary>
    /// Waits until a deadline completion that may be running has finished with the HttpContext, which
    /// must not be touched once the request delegate returns.
    /// </summary>
    public async Task WhenDeadlineHandledAsync()
    {
        // Disposing the registration waits for a callback that is running right now.
        _deadlineRegistration.Dispose();
        if (Volatile.Read(ref _deadlineCompletion) is { } completion)
        {
            await completion.ConfigureAwait(false);
        }
    }

    private void OnDeadline()
    {
        Volatile.Write(ref _deadlineHit, 1);
        ServerLog.DeadlineExceeded(_logger, MethodName, _timeoutText ?? string.Empty);
        Volatile.Write(ref _deadlineCompletion, CompleteOnDeadlineAsync());
    }

    private async Task CompleteOnDeadlineAsync()
    {
        try
        {
            // PROTOCOL-HTTP2 "Client Cancellation": the server cancels the call locally at its deadline.
            // The status goes out now, not when the (possibly slow to notice) handler returns.
            if (await CompleteAsync(new Status(StatusCode.DeadlineExceeded, "Deadline exceeded."), null).ConfigureAwait(false)
                && !HttpContext.RequestAborted.IsCancellationRequested)
            {
                await HttpContext.Response.CompleteAsync().ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // Runs on a timer with no caller; the client enforces its deadline locally anyway.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ServerLog.CallFailed(_logger, MethodName, StatusCode.DeadlineExceeded, ex.Message);
        }
    }

    private static void SetStatusHeaders(HttpResponse response, Status status)
    {
        response.Headers[GrpcProtocol.StatusHeader] = ((int)status.StatusCode).ToString(CultureInfo.InvariantCulture);
        if (!string.IsNullOrEmpty(status.Detail))
        {
            response.Headers[GrpcProtocol.MessageHeader] = StatusMessageEncoding.Encode(status.Detail);
        }
    }

    private static void AppendMetadata(IHeaderDictionary headers, Metadata? metadata)
    {
        if (metadata is null)
        {
            return;
        }

        foreach (var entry in metadata)
        {
            headers.Append(entry.Key, entry.WireValue);
        }
    }
}
