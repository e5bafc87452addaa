using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>Debian's redis-server in the foreground, no persistence, bound to one private loopback address.</summary>
public sealed class RedisDaemon : Daemon
{
    public const int WellKnownPort = 6379;

    private RedisDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("redis", identity, options, WellKnownPort)
    {
    }

    /// <summary>Version truth of the installed redis-server (from `redis-server --version`); skips when it is absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("redis-server", "redis-server");
        return DaemonIdentity.FromBinary("Redis", exe, ["--version"], @"\bv=(\d+\.\d+\.\d+)", "redis-server");
    }

    public static async Task<RedisDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var daemon = new RedisDaemon(Installed(), options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected override DaemonCommand CreateCommand() => new(Identity.Executable,
    [
        "--bind", Address.ToString(),
        "--port", Port.ToString(CultureInfo.InvariantCulture),
        // Protected mode refuses clients from other addresses when no password is set; the only clients here are
        // our own tests on loopback, and the bind above keeps the daemon on this private address.
        "--protected-mode", "no",
        "--save", string.Empty,
        "--appendonly", "no",
        "--daemonize", "no",
        "--supervised", "no",
        "--dir", TempDirectory,
        "--logfile", string.Empty,
        "--loglevel", "notice",
    ]);
}
