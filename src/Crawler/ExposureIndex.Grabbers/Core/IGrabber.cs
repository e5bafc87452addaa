using ExposureIndex.Contracts.V1;

namespace ExposureIndex.Grabbers;

/// <summary>
/// A deep, per-protocol grabber (zgrab2's module, fingerprintx's plugin): thin I/O that hands bytes to a pure
/// parser and turns the parse into a record fragment with Shodan's structured fields. One folder per protocol:
/// <c>&lt;Proto&gt;Grabber</c> (I/O), <c>&lt;Proto&gt;Parser</c> (pure), <c>&lt;Proto&gt;Result</c>.
/// Grabbers never authenticate and never send credentials; they stop before authentication.
/// </summary>
public interface IGrabber
{
    /// <summary>Module name, as in Shodan's <c>_shodan.module</c>: "http", "ssh", "redis" ...</summary>
    string Name { get; }

    Transport Transport { get; }

    /// <summary>Service names (nmap's vocabulary: "http", "ssh", "smtp", "ms-wbt-server" ...) this grabber deepens.</summary>
    IReadOnlyList<string> Services { get; }

    /// <summary>Ports where this protocol usually lives: a hint when identification found nothing.</summary>
    IReadOnlyList<int> Ports { get; }

    /// <summary>Runs the grab. Never throws for network or protocol trouble: that becomes the result's outcome, keeping any partial data.</summary>
    ValueTask<GrabResult> GrabAsync(GrabContext context, CancellationToken cancellationToken);
}

/// <summary>What a grabber learned. <see cref="Fragment"/> is merged into the service's record (protobuf merge semantics).</summary>
public sealed record GrabResult(GrabOutcome Outcome, ServiceRecord Fragment)
{
    public string? Error { get; init; }

    public static GrabResult Success(ServiceRecord fragment) => new(GrabOutcome.Success, fragment);

    public static GrabResult Failed(GrabOutcome outcome, string error, ServiceRecord? partial = null) => new(outcome, partial ?? new ServiceRecord()) { Error = error };
}

/// <summary>Everything a grab may use. It reaches the network only through <see cref="Network"/>.</summary>
public sealed class GrabContext
{
    public required GrabTarget Target { get; init; }

    public required GrabLimits Limits { get; init; }

    public required IGrabNetwork Network { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>What the server already said on the first connection, if anything (NULL probe).</summary>
    public ReadOnlyMemory<byte> InitialBanner { get; init; }

    /// <summary>The service the probe engine identified ("http", "ssh" ...), if any.</summary>
    public string? Service { get; init; }

    /// <summary>True when the service is spoken inside TLS (implicit TLS): the grabber must start TLS first.</summary>
    public bool Tls { get; init; }

    /// <summary>Opens a fresh capped connection to the target (and starts TLS when <see cref="Tls"/> is set).</summary>
    public async ValueTask<GrabConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var connection = await Network.ConnectAsync(Target, Limits, cancellationToken).ConfigureAwait(false);
        if (Tls)
        {
            try
            {
                await connection.StartTlsAsync(Target.ServerName, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        return connection;
    }
}
