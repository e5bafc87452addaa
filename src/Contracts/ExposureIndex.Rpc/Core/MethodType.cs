namespace ExposureIndex.Rpc.Core;

/// <summary>The four shapes of a gRPC method. Explicit values: they never change.</summary>
public enum MethodType
{
    /// <summary>One request, one response.</summary>
    Unary = 0,

    /// <summary>A stream of requests, one response.</summary>
    ClientStreaming = 1,

    /// <summary>One request, a stream of responses.</summary>
    ServerStreaming = 2,

    /// <summary>Independent request and response streams (bidirectional).</summary>
    DuplexStreaming = 3,
}
