using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's xrdp in the foreground (<c>-n</c>, <c>fork=false</c>) with its own xrdp.ini (<c>-c</c>): listening on
/// tcp://127.x.y.z:port, security layer "negotiate" with a self-signed certificate made by openssl in the temp dir,
/// logging to a file there. No session manager is started: the tests stop at the X.224 negotiation.
/// </summary>
/// <remarks>
/// xrdp still reads its key maps and rsakeys.ini from /etc/xrdp and creates /run/xrdp/sockdir (compiled-in paths,
/// for talking to xrdp-sesman); neither matters for negotiation, and the tests run as root, so nothing is skipped.
/// </remarks>
public sealed class XrdpDaemon : Daemon
{
    public const int WellKnownPort = 3389;

    private XrdpDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("xrdp", identity, options, WellKnownPort)
    {
    }

    public string ConfigPath => PathIn("xrdp.ini");

    protected override IEnumerable<string> LogFiles => [PathIn("xrdp.log")];

    /// <summary>Version truth of the installed xrdp (from `xrdp --version`: "xrdp 0.9.21.1"); skips when absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("xrdp", "xrdp");
        return DaemonIdentity.FromBinary("xrdp", exe, ["--version"], @"xrdp (\d+(?:\.\d+)+)", "xrdp");
    }

    public static async Task<XrdpDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var daemon = new XrdpDaemon(Installed(), options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        var openssl = Requires.Executable("openssl", "openssl");
        (await Tool.RunAsync(
            new DaemonCommand(openssl, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=xrdp-test", "-keyout", PathIn("key.pem"), "-out", PathIn("cert.pem")]),
            TimeSpan.FromSeconds(60),
            TempDirectory,
            cancellationToken).ConfigureAwait(false)).EnsureSuccess();
        var config = string.Create(CultureInfo.InvariantCulture, $"""
            [Globals]
            ini_version=1
            fork=false
            port=tcp://{Address}:{Port}
            use_vsock=false
            security_layer=negotiate
            crypt_level=high
            certificate={PathIn("cert.pem")}
            key_file={PathIn("key.pem")}
            ssl_protocols=TLSv1.2, TLSv1.3

            [Logging]
            LogFile={PathIn("xrdp.log")}
            LogLevel=INFO
            EnableSyslog=false
            EnableConsole=false

            [Channels]
            rdpdr=false
            rdpsnd=false
            drdynvc=false
            cliprdr=false

            [Xorg]
            name=Xorg
            lib=libxup.so
            username=ask
            password=ask
            ip=127.0.0.1
            port=-1
            code=20

            """);
        await File.WriteAllTextAsync(ConfigPath, config, cancellationToken).ConfigureAwait(false);
    }

    protected override DaemonCommand CreateCommand() => new(Identity.Executable, ["-n", "-c", ConfigPath]);
}
