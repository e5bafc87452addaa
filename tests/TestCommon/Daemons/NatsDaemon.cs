using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>Debian's nats-server in the foreground, no monitoring port, bound to one private loopback address.</summary>
public sealed class NatsDaemon : Daemon
{
    public const int WellKnownPort = 4222;

    private NatsDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("nats", identity, options, WellKnownPort)
    {
    }

    /// <summary>Version truth from `nats-server --version` ("nats-server: v2.9.10"); skips when absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("nats-server", "nats-server");
        return DaemonIdentity.FromBinary("NATS Server", exe, ["--version"], @"nats-server: v(\d+(?:\.\d+)+)", "nats-server");
    }

    public static async Task<NatsDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var daemon = new NatsDaemon(Installed(), options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected override DaemonCommand CreateCommand()
        => new(Identity.Executable, ["-a", Address.ToString(), "-p", Port.ToString(CultureInfo.InvariantCulture), "--pid", PathIn("nats.pid")]);
}
