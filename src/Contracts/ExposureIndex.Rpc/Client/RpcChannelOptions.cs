using System.Globalization;
using ExposureIndex.Rpc.Core;

namespace ExposureIndex.Rpc.Client;

/// <summary>Client transport settings (immutable; check with <see cref="Validate"/>).</summary>
public sealed record RpcChannelOptions
{
    /// <summary>The defaults.</summary>
    public static RpcChannelOptions Default { get; } = new();

    /// <summary>Largest response message accepted; larger ones fail the call with RESOURCE_EXHAUSTED. Default 16 MiB.</summary>
    public int MaxReceiveMessageSize { get; init; } = GrpcProtocol.DefaultMaxReceiveMessageSize;

    /// <summary>Largest request message we agree to send. Default: unlimited (int.MaxValue).</summary>
    public int MaxSendMessageSize { get; init; } = int.MaxValue;

    /// <summary>Idle time after which an HTTP/2 PING checks the connection (only while calls are active).</summary>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long an unanswered PING may take before the connection is closed (calls fail UNAVAILABLE).</summary>
    public TimeSpan KeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>TCP connect timeout.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Initial HTTP/2 receive window per stream (bytes); larger windows help streaming responses.</summary>
    public int InitialHttp2StreamWindowSize { get; init; } = 1024 * 1024;

    /// <summary>Every problem with these options, empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MaxReceiveMessageSize < 1)
        {
            errors.Add(Invariant($"{nameof(MaxReceiveMessageSize)} must be at least 1 byte, got {MaxReceiveMessageSize}."));
        }

        if (MaxSendMessageSize < 1)
        {
            errors.Add(Invariant($"{nameof(MaxSendMessageSize)} must be at least 1 byte, got {MaxSendMessageSize}."));
        }

        if (KeepAlivePingDelay <= TimeSpan.Zero && KeepAlivePingDelay != Timeout.InfiniteTimeSpan)
        {
            errors.Add(Invariant($"{nameof(KeepAlivePingDelay)} must be positive or infinite, got {KeepAlivePingDelay}."));
        }

        if (KeepAlivePingTimeout <= TimeSpan.Zero && KeepAlivePingTimeout != Timeout.InfiniteTimeSpan)
        {
            errors.Add(Invariant($"{nameof(KeepAlivePingTimeout)} must be positive or infinite, got {KeepAlivePingTimeout}."));
        }

        if (ConnectTimeout <= TimeSpan.Zero && ConnectTimeout != Timeout.InfiniteTimeSpan)
        {
            errors.Add(Invariant($"{nameof(ConnectTimeout)} must be positive or infinite, got {ConnectTimeout}."));
        }

        // RFC 9113 §6.9.1: windows range from 65,535 (the protocol default) to 2^31-1.
        if (InitialHttp2StreamWindowSize < 65_535)
        {
            errors.Add(Invariant($"{nameof(InitialHttp2StreamWindowSize)} must be at least 65535 bytes, got {InitialHttp2StreamWindowSize}."));
        }

        return errors;
    }

    internal RpcChannelOptions EnsureValid()
    {
        var errors = Validate();
        return errors.Count == 0 ? this : throw new ArgumentException("Invalid RpcChannelOptions: " + string.Join(" ", errors));
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
