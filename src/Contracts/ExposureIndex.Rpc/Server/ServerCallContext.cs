using ExposureIndex.Rpc.Core;
using Microsoft.AspNetCore.Http;

namespace ExposureIndex.Rpc.Server;

/// <summary>What a server handler knows about its call, and how it shapes the response's metadata.</summary>
public sealed class ServerCallContext
{
    private readonly ServerCall _call;
    private Metadata? _requestHeaders;

    internal ServerCallContext(ServerCall call)
    {
        _call = call;
    }

    /// <summary>The method's path, e.g. <c>/exposure.v1.Ingest/Publish</c>.</summary>
    public string Method => _call.MethodName;

    /// <summary>The caller's address, e.g. <c>ipv4:127.0.0.1:50123</c>.</summary>
    public string Peer => _call.Peer;

    /// <summary>The call's deadline in UTC (from grpc-timeout), or <see cref="DateTime.MaxValue"/> when none.</summary>
    public DateTime Deadline => _call.Deadline;

    /// <summary>Cancelled when the client cancels (RST_STREAM), disconnects, or the deadline passes.</summary>
    public CancellationToken CancellationToken => _call.CallToken;

    /// <summary>Custom metadata the client sent (reserved headers are left out).</summary>
    public Metadata RequestHeaders => _requestHeaders ??= _call.ReadRequestHeaders();

    /// <summary>Custom metadata sent with the final status.</summary>
    public Metadata ResponseTrailers { get; } = new();

    /// <summary>The status sent when the handler returns normally (default OK).</summary>
    public Status Status { get; set; } = Status.DefaultSuccess;

    /// <summary>Sends the response headers now, with this metadata. Only once, before the first message.</summary>
    public Task WriteResponseHeadersAsync(Metadata responseHeaders) => _call.WriteResponseHeadersAsync(responseHeaders);

    /// <summary>The underlying ASP.NET Core request.</summary>
    public HttpContext GetHttpContext() => _call.HttpContext;
}
