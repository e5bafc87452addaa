namespace ExposureIndex.Rpc.Core;

/// <summary>
/// Status synthesis for responses without <c>grpc-status</c>: grpc/doc/http-grpc-status-mapping.md for
/// HTTP statuses, and PROTOCOL-HTTP2 "Errors" for RST_STREAM codes. Clients only; servers never use it.
/// </summary>
public static class StatusMapping
{
    /// <summary>Maps an HTTP status of a response that carried no grpc-status.</summary>
    public static StatusCode FromHttpStatus(int httpStatus) => httpStatus switch
    {
        400 => StatusCode.Internal,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.Unimplemented,
        429 or 502 or 503 or 504 => StatusCode.Unavailable,
        431 => StatusCode.Internal,
        _ => StatusCode.Unknown,
    };

    /// <summary>Maps an HTTP/2 RST_STREAM (or GOAWAY) error code (RFC 9113 §7).</summary>
    public static StatusCode FromHttp2ErrorCode(long errorCode) => errorCode switch
    {
        0x7 => StatusCode.Unavailable,       // REFUSED_STREAM: nothing was processed, retry is safe
        0x8 => StatusCode.Cancelled,         // CANCEL
        0xb => StatusCode.ResourceExhausted, // ENHANCE_YOUR_CALM
        0xc => StatusCode.PermissionDenied,  // INADEQUATE_SECURITY
        // HTTP_1_1_REQUIRED is not in the spec's table: the peer refuses HTTP/2 altogether (Kestrel's
        // HTTP/1.1-only endpoints answer the h2c preface with it), so no gRPC server is reachable there,
        // which PROTOCOL-HTTP2 "Connection failure" makes UNAVAILABLE.
        0xd => StatusCode.Unavailable,
        _ => StatusCode.Internal,            // NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, ...
    };
}
