using System.Globalization;
using System.Text.RegularExpressions;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's PostgreSQL server: initdb into the temp dir, then the postmaster in the foreground on one private
/// loopback address, its Unix socket in the temp dir. As root both run as the postgres account (setpriv, which
/// execs in place). Connections from 127.0.0.0/8 are trusted so tests can complete a startup and read
/// server_version; nothing here is reachable from off the machine.
/// </summary>
public sealed class PostgresDaemon : Daemon
{
    public const int WellKnownPort = 5432;
    public const string SuperUser = "postgres";
    private const string ServiceAccount = "postgres";

    private PostgresDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("postgres", identity, options, WellKnownPort)
    {
    }

    public string DataDirectory => PathIn("data");

    public string SocketDirectory => PathIn("socket");

    // SIGTERM is "smart" shutdown and waits for clients to leave; SIGINT is "fast" (postgres(1), server shutdown).
    protected override int StopSignal => UnixSignals.Int;

    /// <summary>
    /// Version truth of the newest installed server under /usr/lib/postgresql/*/bin (from `postgres --version`);
    /// skips when none is installed.
    /// </summary>
    public static DaemonIdentity Installed()
    {
        var exe = FindPostgres();
        if (exe is null)
        {
            Requires.SkipOrFail("PostgreSQL server is not installed: no /usr/lib/postgresql/*/bin/postgres (apt-get install postgresql; ./test.sh installs it).");
        }

        var major = Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(exe!)))!;
        return DaemonIdentity.FromBinary("PostgreSQL", exe!, ["--version"], @"\(PostgreSQL\) (\d+(?:\.\d+)+)", $"postgresql-{major}");
    }

    public static async Task<PostgresDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var daemon = new PostgresDaemon(Installed(), options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(SocketDirectory);
        await ChownAsync(TempDirectory, ServiceAccount, cancellationToken).ConfigureAwait(false);
        var initdb = Path.Combine(Path.GetDirectoryName(Identity.Executable)!, "initdb");
        var init = await Tool.RunAsync(
            new DaemonCommand(initdb, ["-D", DataDirectory, "-U", SuperUser, "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"]) { RunAsUser = ServiceAccount },
            Options.StartTimeout,
            TempDirectory,
            cancellationToken).ConfigureAwait(false);
        init.EnsureSuccess();
        // initdb's -A trust covers 127.0.0.1/32 only; our clients connect to 127.x.y.z (and come from 127.0.0.1).
        await File.AppendAllTextAsync(Path.Combine(DataDirectory, "pg_hba.conf"), "host all all 127.0.0.0/8 trust\n", cancellationToken).ConfigureAwait(false);
    }

    protected override DaemonCommand CreateCommand() => new(Identity.Executable,
    [
        "-D", DataDirectory,
        "-k", SocketDirectory,
        "-h", Address.ToString(),
        "-p", Port.ToString(CultureInfo.InvariantCulture),
        "-c", "fsync=off",
        "-c", "full_page_writes=off",
        "-c", "synchronous_commit=off",
        "-c", "shared_buffers=16MB",
        "-c", "max_connections=30",
        "-c", "logging_collector=off",
        "-c", "log_hostname=off",
    ])
    { RunAsUser = ServiceAccount };

    // The port opens before recovery finishes; until the log says ready, startups get "the database system is starting up".
    protected override async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
        => LogContains("database system is ready to accept connections") && await base.IsReadyAsync(cancellationToken).ConfigureAwait(false);

    private static string? FindPostgres()
    {
        const string Root = "/usr/lib/postgresql";
        if (!Directory.Exists(Root))
        {
            return null;
        }

        return Directory.EnumerateDirectories(Root)
            .Select(dir => (dir, major: Regex.IsMatch(Path.GetFileName(dir), @"^\d+$", RegexOptions.None, TimeSpan.FromSeconds(1)) ? int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture) : -1))
            .Where(d => d.major >= 0 && File.Exists(Path.Combine(d.dir, "bin", "postgres")))
            .OrderByDescending(d => d.major)
            .Select(d => Path.Combine(d.dir, "bin", "postgres"))
            .FirstOrDefault();
    }
}
