namespace ExposureIndex.Rpc.Core;

/// <summary>Header names and values of PROTOCOL-HTTP2.</summary>
public static class GrpcProtocol
{
    /// <summary>The content type we send.</summary>
    public const string ContentType = "application/grpc";

    /// <summary>Request deadline header.</summary>
    public const string TimeoutHeader = "grpc-timeout";

    /// <summary>Status code header (trailers, or headers when Trailers-Only).</summary>
    public const string StatusHeader = "grpc-status";

    /// <summary>Percent-encoded status message header.</summary>
    public const string MessageHeader = "grpc-message";

    /// <summary>Message encoding header.</summary>
    public const string EncodingHeader = "grpc-encoding";

    /// <summary>Accepted message encodings header.</summary>
    public const string AcceptEncodingHeader = "grpc-accept-encoding";

    /// <summary>The only message encoding we support.</summary>
    public const string IdentityEncoding = "identity";

    /// <summary>Default cap on a received message (16 MiB).</summary>
    public const int DefaultMaxReceiveMessageSize = 16 * 1024 * 1024;

    /// <summary>
    /// True when <paramref name="contentType"/> is <c>application/grpc</c>, optionally followed by
    /// <c>+subtype</c> or <c>;parameters</c> (PROTOCOL-HTTP2 "Content-Type").
    /// </summary>
    public static bool IsGrpcContentType(string? contentType)
    {
        if (contentType is null || !contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return contentType.Length == ContentType.Length || contentType[ContentType.Length] is '+' or ';';
    }
}
