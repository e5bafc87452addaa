using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's MariaDB server: mariadb-install-db into the temp dir, then mariadbd in the foreground with no option
/// files (--no-defaults), bound to one private loopback address, socket and pid file in the temp dir. As root it
/// switches itself to the mysql account (--user), keeping its pid.
/// </summary>
public sealed class MariaDbDaemon : Daemon
{
    public const int WellKnownPort = 3306;
    private const string ServiceAccount = "mysql";

    private MariaDbDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("mariadb", identity, options, WellKnownPort)
    {
    }

    public string DataDirectory => PathIn("data");

    public string SocketPath => PathIn("mysqld.sock");

    /// <summary>Version truth of the installed mariadbd (from `mariadbd --version`); skips when it is absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("mariadbd", "mariadb-server");
        return DaemonIdentity.FromBinary("MariaDB", exe, ["--version"], @"Ver (\d+\.\d+\.\d+)-MariaDB", "mariadb-server-core");
    }

    public static async Task<MariaDbDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var daemon = new MariaDbDaemon(Installed(), options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        var installDb = Requires.Executable("mariadb-install-db", "mariadb-server");
        Directory.CreateDirectory(PathIn("tmp"));
        await ChownAsync(TempDirectory, ServiceAccount, cancellationToken).ConfigureAwait(false);
        // --no-defaults must come first; --skip-name-resolve keeps grants on IP addresses (no DNS from tests).
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
            $"--socket={SocketPath}",
            $"--pid-file={PathIn("mariadbd.pid")}",
            $"--tmpdir={PathIn("tmp")}",
            $"--bind-address={Address}",
            $"--port={Port.ToString(CultureInfo.InvariantCulture)}",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=16M",
            "--max-connections=50",
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
