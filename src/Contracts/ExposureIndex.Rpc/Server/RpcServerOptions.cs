using System.Globalization;
using ExposureIndex.Rpc.Core;

namespace ExposureIndex.Rpc.Server;

/// <summary>Server-side transport settings (immutable; check with <see cref="Validate"/>).</summary>
public sealed record RpcServerOptions
{
    /// <summary>The defaults.</summary>
    public static RpcServerOptions Default { get; } = new();

    /// <summary>Largest request message accepted; larger ones end the call with RESOURCE_EXHAUSTED. Default 16 MiB.</summary>
    public int MaxReceiveMessageSize { get; init; } = GrpcProtocol.DefaultMaxReceiveMessageSize;

    /// <summary>Largest response message a handler may send. Default: unlimited (int.MaxValue).</summary>
    public int MaxSendMessageSize { get; init; } = int.MaxValue;

    /// <summary>
    /// When true, the grpc-message of an UNKNOWN status caused by a handler exception names the exception
    /// type and message. Off by default: internals must not leak to clients.
    /// </summary>
    public bool IncludeExceptionDetails { get; init; }

    /// <summary>Every problem with these options, empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MaxReceiveMessageSize < 1)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(MaxReceiveMessageSize)} must be at least 1 byte, got {MaxReceiveMessageSize}."));
        }

        if (MaxSendMessageSize < 1)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(MaxSendMessageSize)} must be at least 1 byte, got {MaxSendMessageSize}."));
        }

        return errors;
    }

    internal RpcServerOptions EnsureValid()
    {
        var errors = Validate();
        return errors.Count == 0 ? this : throw new ArgumentException("Invalid RpcServerOptions: " + string.Join(" ", errors));
    }
}
