using ExposureIndex.Rpc.Core;

namespace ExposureIndex.Rpc.Client;

/// <summary>
/// Per-call settings. <paramref name="Deadline"/> (UTC) is sent as grpc-timeout and enforced locally;
/// cancelling <paramref name="CancellationToken"/> cancels the call (RST_STREAM CANCEL).
/// </summary>
public readonly record struct CallOptions(Metadata? Headers = null, DateTime? Deadline = null, CancellationToken CancellationToken = default);
