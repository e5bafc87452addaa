using Microsoft.Extensions.Logging;

namespace ExposureIndex.Rpc.Server;

/// <summary>Server transport log events. Event ids are stable (dashboards and alerts key on them).</summary>
internal static partial class ServerLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Error, Message = "gRPC handler of {Method} threw; the call ends with status {StatusCode}")]
    public static partial void HandlerFailed(ILogger logger, string method, Core.StatusCode statusCode, Exception exception);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "gRPC call {Method} exceeded its deadline (grpc-timeout {Timeout})")]
    public static partial void DeadlineExceeded(ILogger logger, string method, string timeout);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Rejected gRPC request to {Path}: protocol {Protocol} is not HTTP/2 (426)")]
    public static partial void UnsupportedProtocol(ILogger logger, string path, string protocol);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Rejected request to {Path}: content-type '{ContentType}' is not application/grpc (415)")]
    public static partial void UnsupportedContentType(ILogger logger, string path, string contentType);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "gRPC method {Path} is not implemented (status 12)")]
    public static partial void Unimplemented(ILogger logger, string path);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "Rejected gRPC call {Method}: invalid grpc-timeout '{Value}'")]
    public static partial void InvalidTimeout(ILogger logger, string method, string value);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Debug, Message = "gRPC call {Method} was cancelled by the client")]
    public static partial void CallCancelled(ILogger logger, string method);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Information, Message = "Rejected gRPC call {Method}: unsupported grpc-encoding '{Encoding}'")]
    public static partial void UnsupportedEncoding(ILogger logger, string method, string encoding);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Error, Message = "gRPC call {Method}: a response message was half-written; the stream is reset")]
    public static partial void CorruptResponse(ILogger logger, string method);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Debug, Message = "gRPC call {Method} ended with status {StatusCode}: {Detail}")]
    public static partial void CallFailed(ILogger logger, string method, Core.StatusCode statusCode, string detail);
}
