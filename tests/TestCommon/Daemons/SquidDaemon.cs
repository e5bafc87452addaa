using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's squid in the foreground (-N), one http_port on this fixture's address, no cache, every request denied
/// (http_access deny all) and DNS pointed at loopback: it answers requests with its own error pages and never
/// fetches anything.
/// </summary>
public sealed class SquidDaemon : Daemon
{
    public const int WellKnownPort = 3128;

    private SquidDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("squid", identity, options, WellKnownPort)
    {
    }

    /// <summary>Version truth from `squid -v` ("Squid Cache: Version 5.7"); skips when absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("squid", "squid");
        return DaemonIdentity.FromBinary("Squid http proxy", exe, ["-v"], @"Squid Cache: Version (\d+(?:\.\d+)+)", "squid");
    }

    public static async Task<SquidDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var daemon = new SquidDaemon(Installed(), options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override IEnumerable<string> LogFiles => [PathIn("cache.log")];

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        SetUnixMode(TempDirectory, WorldReadable | UnixFileMode.OtherWrite | UnixFileMode.GroupWrite);
        var config = string.Create(CultureInfo.InvariantCulture, $"""
            http_port {Address}:{Port}
            http_access deny all
            cache deny all
            cache_mem 8 MB
            pid_filename {PathIn("squid.pid")}
            access_log none
            cache_log {PathIn("cache.log")}
            cache_store_log none
            coredump_dir {TempDirectory}
            dns_nameservers 127.0.0.1
            visible_hostname squid.exposure.test
            shutdown_lifetime 1 seconds
            workers 1

            """);
        await File.WriteAllTextAsync(PathIn("squid.conf"), config, cancellationToken).ConfigureAwait(false);
    }

    protected override DaemonCommand CreateCommand() => new(Identity.Executable, ["-N", "-f", PathIn("squid.conf")]);
}
