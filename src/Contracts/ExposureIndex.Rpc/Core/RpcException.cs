namespace ExposureIndex.Rpc.Core;

/// <summary>
/// A call ended with a non-OK <see cref="Core.Status"/>. Thrown by client calls; thrown by a server
/// handler to end its call with that status (and <see cref="Trailers"/>).
/// </summary>
public sealed class RpcException : Exception
{
    /// <summary>Creates an exception for a status with no trailers.</summary>
    public RpcException(Status status)
        : this(status, new Metadata())
    {
    }

    /// <summary>Creates an exception for a status with trailers.</summary>
    public RpcException(Status status, Metadata trailers)
        : this(status, trailers, status.ToString())
    {
    }

    /// <summary>Creates an exception for a status with trailers and a message of its own.</summary>
    public RpcException(Status status, Metadata trailers, string message)
        : base(message)
    {
        ArgumentNullException.ThrowIfNull(trailers);
        Status = status;
        Trailers = trailers;
    }

    /// <summary>Creates an UNKNOWN status exception (the standard exception constructors).</summary>
    public RpcException()
        : this(new Status(StatusCode.Unknown, string.Empty))
    {
    }

    /// <summary>Creates an UNKNOWN status exception with a message.</summary>
    public RpcException(string message)
        : this(new Status(StatusCode.Unknown, message ?? string.Empty), new Metadata(), message ?? string.Empty)
    {
    }

    /// <summary>Creates an UNKNOWN status exception with a message and an inner exception.</summary>
    public RpcException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = new Status(StatusCode.Unknown, message ?? string.Empty);
        Trailers = new Metadata();
    }

    /// <summary>Creates an exception for a status, keeping the exception that caused it.</summary>
    public RpcException(Status status, Exception innerException)
        : base(status.ToString(), innerException)
    {
        Status = status;
        Trailers = new Metadata();
    }

    /// <summary>The status of the call.</summary>
    public Status Status { get; }

    /// <summary>Shortcut for <c>Status.StatusCode</c>.</summary>
    public StatusCode StatusCode => Status.StatusCode;

    /// <summary>Trailing metadata of the call (empty when none was received or given).</summary>
    public Metadata Trailers { get; }
}
