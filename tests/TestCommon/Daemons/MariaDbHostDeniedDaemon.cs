using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's MariaDB started as <see cref="MariaDbDaemon"/> starts it, except that an init file deletes every account
/// at start-up: no host may connect, so the server answers each connection with ERR 1130 "Host '…' is not allowed
/// to connect to this MariaDB server" instead of its handshake, as a locked-down server on the internet does.
/// </summary>
public sealed class MariaDbHostDeniedDaemon : Daemon
{
    private const string ServiceAccount = "mysql";

    private MariaDbHostDeniedDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("mariadb-denied", identity, options, MariaDbDaemon.WellKnownPort)
    {
    }

    public string DataDirectory => PathIn("data");

    public static async Task<MariaDbHostDeniedDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var daemon = new MariaDbHostDeniedDaemon(MariaDbDaemon.Installed(), options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        var installDb = Requires.Executable("mariadb-install-db", "mariadb-server");
        Directory.CreateDirectory(PathIn("tmp"));
        // mysql.global_priv holds every account (MariaDB 10.4+); with none left, acl_check_host refuses every host.
        await File.WriteAllTextAsync(PathIn("init.sql"), "DELETE FROM mysql.global_priv;\nFLUSH PRIVILEGES;\n", cancellationToken).ConfigureAwait(false);
        await ChownAsync(TempDirectory, ServiceAccount, cancellationToken).ConfigureAwait(false);
        List<string> args = ["--no-defaults", $"--datadir={DataDirectory}", "--skip-test-db", "--skip-name-resolve", "--auth-root-authentication-method=normal"];
        if (RunningAsRoot)
        {
            args.Add($"--user={ServiceAccount}");
        }

        (await Tool.RunAsync(new DaemonCommand(installDb, args), Options.StartTimeout, TempDirectory, cancellationToken).ConfigureAwait(false)).EnsureSuccess();
    }

    protected override DaemonCommand CreateCommand()
    {
        var args = new List<string>
        {
            "--no-defaults",
            $"--datadir={DataDirectory}",
            $"--socket={PathIn("mysqld.sock")}",
            $"--pid-file={PathIn("mariadbd.pid")}",
            $"--tmpdir={PathIn("tmp")}",
            $"--bind-address={Address}",
            $"--port={Port.ToString(CultureInfo.InvariantCulture)}",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=16M",
            "--max-connections=50",
            $"--init-file={PathIn("init.sql")}",
        };
        if (RunningAsRoot)
        {
            args.Add($"--user={ServiceAccount}");
        }

        return new DaemonCommand(Identity.Executable, args);
    }

    protected override async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
        => LogContains("ready for connections") && await base.IsReadyAsync(cancellationToken).ConfigureAwait(false);
}
