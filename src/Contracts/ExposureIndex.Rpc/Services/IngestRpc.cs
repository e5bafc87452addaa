using ExposureIndex.Contracts.V1;
using ExposureIndex.Rpc.Core;

namespace ExposureIndex.Rpc.Services;

/// <summary>
/// Method descriptors of <c>exposure.v1.Ingest</c> (src/Contracts/ExposureIndex.Contracts/Protos/exposure/v1/ingest.proto).
/// Server: <c>endpoints.MapRpcDuplex(IngestRpc.Publish, handler)</c>; client: <c>channel.DuplexStreamingCall(IngestRpc.Publish)</c>.
/// </summary>
public static class IngestRpc
{
    /// <summary>The fully qualified service name.</summary>
    public const string ServiceName = "exposure.v1.Ingest";

    /// <summary>
    /// <c>rpc Publish(stream PublishBatch) returns (stream PublishAck)</c>: numbered batches in, one ack per
    /// batch out, each sent once the batch's accepted records are durable.
    /// </summary>
    public static Method<PublishBatch, PublishAck> Publish { get; } = new(
        MethodType.DuplexStreaming,
        ServiceName,
        "Publish",
        Marshallers.ForProtobuf<PublishBatch>(),
        Marshallers.ForProtobuf<PublishAck>());
}
