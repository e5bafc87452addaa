using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's Prosody XMPP server in the foreground (daemonize = false), c2s and s2s on one loopback address, no HTTP
/// ports, its data in the temp dir, run as the prosody account. No accounts exist: nobody can log in.
/// </summary>
public sealed class ProsodyDaemon : Daemon
{
    public const int WellKnownPort = 5222;

    private ProsodyDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("prosody", identity, options, WellKnownPort)
    {
    }

    /// <summary>
    /// Prosody's version comes from its package (it shows none on the wire before login, and `prosodyctl about`
    /// needs a configured system). Skips when absent.
    /// </summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("prosody", "prosody");
        return DaemonIdentity.FromPackage("Prosody XMPP server", exe, "prosody");
    }

    public static async Task<ProsodyDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var daemon = new ProsodyDaemon(Installed(), options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(PathIn("data"));
        SetUnixMode(TempDirectory, WorldReadable);
        SetUnixMode(PathIn("data"), WorldReadable | UnixFileMode.OtherWrite | UnixFileMode.GroupWrite);
        var config = string.Create(CultureInfo.InvariantCulture, $$"""
            pidfile = "{{PathIn("data/prosody.pid")}}"
            daemonize = false
            log = { { levels = { min = "info" }, to = "console" } }
            interfaces = { "{{Address}}" }
            c2s_ports = { {{Port}} }
            s2s_ports = { }
            c2s_direct_tls_ports = { }
            http_ports = { }
            https_ports = { }
            data_path = "{{PathIn("data")}}"
            modules_enabled = { "disco", "version" }
            c2s_require_encryption = false
            s2s_require_encryption = false
            allow_registration = false
            authentication = "internal_hashed"
            VirtualHost "exposure.test"

            """);
        await File.WriteAllTextAsync(PathIn("prosody.cfg.lua"), config, cancellationToken).ConfigureAwait(false);
        SetUnixMode(PathIn("prosody.cfg.lua"), WorldReadable);
    }

    protected override DaemonCommand CreateCommand()
        => new(Identity.Executable, ["--config", PathIn("prosody.cfg.lua")]) { RunAsUser = "prosody" };
}
