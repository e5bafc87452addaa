using System.Globalization;
using System.Text;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's Postfix: master(8) in the foreground (<c>-d</c>) with its own config dir, queue dir and data dir in the
/// temp dir, one smtpd listening on the fixture's 127.x.y.z:port, STARTTLS offered with a self-signed certificate.
/// It relays nothing and delivers nothing (every restriction is "reject", every transport is error:), never looks
/// anything up in DNS (<c>disable_dns_lookups</c>, <c>smtp_dns_support_level = disabled</c>, native host lookups with a
/// loopback-only hosts file in the queue dir, no client name lookups), and logs to its stdio log.
/// </summary>
/// <remarks>
/// Postfix refuses an <c>inet_interfaces</c> address that no interface carries, and 127.x.y.z is only routed to lo,
/// not assigned to it; so inet_interfaces is "loopback-only" and the smtpd service in master.cf binds the fixture's
/// own "address:port", which binds exactly that address. master(8) must start as root; without root the test skips.
/// </remarks>
public sealed class PostfixDaemon : Daemon
{
    public const int WellKnownPort = 25;
    public const string HostName = "mail.exposureindex.test";
    private const string Master = "/usr/lib/postfix/sbin/master";

    private readonly bool _versionInBanner;

    private PostfixDaemon(DaemonIdentity identity, DaemonOptions? options, bool versionInBanner)
        : base("postfix", identity, options, WellKnownPort)
    {
        _versionInBanner = versionInBanner;
    }

    public string ConfigDirectory => PathIn("etc");

    public string QueueDirectory => PathIn("spool");

    /// <summary>The certificate smtpd offers after STARTTLS (set once started).</summary>
    public SelfSignedCertificate? Certificate { get; private set; }

    /// <summary>
    /// Version truth of the installed Postfix: <c>postconf -d mail_version</c> (what $mail_version expands to in a
    /// banner). Skips when Postfix is absent or the tests do not run as root.
    /// </summary>
    public static DaemonIdentity Installed()
    {
        var postconf = Requires.Executable("postconf", "postfix");
        Requires.File(Master, "Postfix's master(8) (apt-get install postfix)");
        return DaemonIdentity.FromBinary("Postfix", Master, ["-d", "mail_version"], @"mail_version = (\d+(?:\.\d+)+)", "postfix", runThrough: postconf);
    }

    /// <param name="versionInBanner">
    /// Greet with "$myhostname ESMTP $mail_name $mail_version" instead of Debian's default
    /// "$myhostname ESMTP $mail_name (Debian/GNU)", which names no version.
    /// </param>
    public static async Task<PostfixDaemon> StartAsync(DaemonOptions? options = null, bool versionInBanner = false, CancellationToken cancellationToken = default)
    {
        var identity = Installed();
        if (!RunningAsRoot)
        {
            Requires.SkipOrFail("Postfix's master(8) must start as root (it drops to the postfix account itself).");
        }

        var daemon = new PostfixDaemon(identity, options, versionInBanner);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        // smtpd runs as the postfix account and must reach the queue dir's sockets below our temp dir.
        SetUnixMode(TempDirectory, WorldReadable);
        Directory.CreateDirectory(ConfigDirectory);
        Directory.CreateDirectory(PathIn("data"));
        Directory.CreateDirectory(Path.Combine(QueueDirectory, "etc"));
        await File.WriteAllTextAsync(Path.Combine(QueueDirectory, "etc", "hosts"), $"127.0.0.1 localhost\n{Address} {HostName}\n", cancellationToken).ConfigureAwait(false);
        Certificate = await SelfSignedCertificate.CreateAsync(TempDirectory, HostName, cancellationToken).ConfigureAwait(false);

        var banner = _versionInBanner ? "$myhostname ESMTP $mail_name $mail_version" : "$myhostname ESMTP $mail_name (Debian/GNU)";
        var main = new StringBuilder();
        main.Append(CultureInfo.InvariantCulture, $"""
            compatibility_level = 3.6
            queue_directory = {QueueDirectory}
            data_directory = {PathIn("data")}
            mail_owner = postfix
            setgid_group = postdrop
            myhostname = {HostName}
            mydomain = exposureindex.test
            myorigin = $myhostname
            mydestination =
            inet_interfaces = loopback-only
            inet_protocols = ipv4
            mynetworks =
            relayhost =
            relay_domains =
            smtpd_banner = {banner}
            smtpd_relay_restrictions = reject
            smtpd_recipient_restrictions = reject
            default_transport = error:this test daemon relays nothing
            relay_transport = error:this test daemon relays nothing
            local_transport = error:this test daemon delivers nothing
            alias_maps =
            alias_database =
            local_recipient_maps =
            disable_dns_lookups = yes
            smtp_dns_support_level = disabled
            smtp_host_lookup = native
            lmtp_host_lookup = native
            smtpd_peername_lookup = no
            biff = no
            smtpd_tls_security_level = may
            smtpd_tls_cert_file = {Certificate.CertificatePath}
            smtpd_tls_key_file = {Certificate.KeyPath}
            smtpd_tls_loglevel = 0
            maillog_file = /dev/stdout

            """);
        await File.WriteAllTextAsync(Path.Combine(ConfigDirectory, "main.cf"), main.ToString(), cancellationToken).ConfigureAwait(false);
        // master.cf(5): service type private unpriv chroot wakeup maxproc command. Only what smtpd needs: anvil for
        // connection limits, tlsmgr for TLS entropy and the session cache, trivial-rewrite for MAIL FROM, postlogd for
        // maillog_file.
        var master = string.Create(CultureInfo.InvariantCulture, $"""
            {Address}:{Port} inet n - n - - smtpd
            anvil unix - - n - 1 anvil
            tlsmgr unix - - n 1000? 1 tlsmgr
            rewrite unix - - n - - trivial-rewrite
            postlog unix-dgram n - n - 1 postlogd

            """);
        await File.WriteAllTextAsync(Path.Combine(ConfigDirectory, "master.cf"), master, cancellationToken).ConfigureAwait(false);

        // "postfix check" creates the queue's subdirectories with Postfix's own owners and modes.
        var postfix = Requires.Executable("postfix", "postfix");
        (await Tool.RunAsync(new DaemonCommand(postfix, ["-c", ConfigDirectory, "check"]), TimeSpan.FromSeconds(60), TempDirectory, cancellationToken).ConfigureAwait(false)).EnsureSuccess();
        await ChownAsync(PathIn("data"), "postfix", cancellationToken).ConfigureAwait(false);
    }

    protected override DaemonCommand CreateCommand() => new(Identity.Executable, ["-c", ConfigDirectory, "-d"]);

    // The port opens before smtpd can greet (tlsmgr seeds its entropy first): ready means a 220 greeting.
    protected override async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            return (await WireProbe.ReadBannerLineAsync(EndPoint, TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false)).StartsWith("220 ", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is TimeoutException or System.Net.Sockets.SocketException)
        {
            return false;
        }
    }
}
