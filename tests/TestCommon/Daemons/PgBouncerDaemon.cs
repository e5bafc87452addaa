using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's PgBouncer in the foreground on one private loopback address, no Unix socket, an empty auth_file (nobody
/// can log in, so it never opens a server connection) and one database entry pointing at a port where nothing
/// listens. As root it runs as the postgres account (setpriv), since PgBouncer refuses to run as root.
/// </summary>
public sealed class PgBouncerDaemon : Daemon
{
    public const int WellKnownPort = 6432;
    private const string ServiceAccount = "postgres";

    private readonly string _authType;

    private PgBouncerDaemon(DaemonIdentity identity, DaemonOptions? options, string authType)
        : base("pgbouncer", identity, options, WellKnownPort)
    {
        _authType = authType;
    }

    /// <summary>Version truth of the installed pgbouncer (`pgbouncer -V`, "PgBouncer 1.18.0"); skips when absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("pgbouncer", "pgbouncer");
        return DaemonIdentity.FromBinary("PgBouncer", exe, ["-V"], @"PgBouncer (\d+(?:\.\d+)+)", "pgbouncer");
    }

    /// <param name="authType">auth_type: "md5" (Debian's sample config), "scram-sha-256", "trust" ...</param>
    public static async Task<PgBouncerDaemon> StartAsync(DaemonOptions? options = null, string authType = "md5", CancellationToken cancellationToken = default)
    {
        var daemon = new PgBouncerDaemon(Installed(), options, authType);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        var nowhere = Loopback.FreeTcpPort(Address);
        await File.WriteAllTextAsync(PathIn("userlist.txt"), string.Empty, cancellationToken).ConfigureAwait(false);
        var config = string.Create(CultureInfo.InvariantCulture, $"""
            [databases]
            appdb = host={Address} port={nowhere} dbname=appdb

            [pgbouncer]
            listen_addr = {Address}
            listen_port = {Port}
            unix_socket_dir =
            auth_type = {_authType}
            auth_file = {PathIn("userlist.txt")}
            logfile =
            pidfile =
            admin_users =
            stats_users =

            """);
        await File.WriteAllTextAsync(PathIn("pgbouncer.ini"), config, cancellationToken).ConfigureAwait(false);
        await ChownAsync(TempDirectory, ServiceAccount, cancellationToken).ConfigureAwait(false);
    }

    protected override DaemonCommand CreateCommand() => new(Identity.Executable, [PathIn("pgbouncer.ini")]) { RunAsUser = ServiceAccount };
}
