using System.Net;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>Where and how long: every field is optional.</summary>
public sealed record DaemonOptions
{
    public static readonly DaemonOptions Default = new();

    /// <summary>The 127.x.y.z address to bind (only that one). Default: a fresh <see cref="Loopback.NextAddress"/>.</summary>
    public IPAddress? Address { get; init; }

    /// <summary>
    /// The port. Default: the service's well-known port (22, 80, 21, 6379, ...) when it can be bound on the fresh
    /// address (root, nothing else on it), so scans find it where a real host has it; otherwise a free port.
    /// </summary>
    public int? Port { get; init; }

    /// <summary>Bound on preparing (keys, initdb) plus waiting for readiness.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long the stop signal has before SIGKILL.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(15);
}

/// <summary>A daemon did not come up: the message carries the command, the reason and the tail of its logs.</summary>
public sealed class DaemonStartException : Exception
{
    public DaemonStartException()
    {
    }

    public DaemonStartException(string message)
        : base(message)
    {
    }

    public DaemonStartException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
