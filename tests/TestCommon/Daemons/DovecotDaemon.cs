using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's Dovecot (<c>dovecot -F</c>, foreground) serving IMAP on <see cref="Daemon.Port"/> and POP3 on
/// <see cref="Pop3Port"/>, both on the fixture's private 127.x.y.z, with its own base_dir, state_dir and config in the
/// temp dir and STARTTLS/STLS offered with a self-signed certificate. Authentication is a passwd-file that is empty:
/// nothing on the system is consulted and nobody can log in.
/// </summary>
public sealed class DovecotDaemon : Daemon
{
    public const int WellKnownPort = 143;
    public const int WellKnownPop3Port = 110;
    public const string HostName = "imap.exposureindex.test";

    private readonly bool _revealVersion;

    private DovecotDaemon(DaemonIdentity identity, DaemonOptions? options, bool revealVersion)
        : base("dovecot", identity, options, WellKnownPort)
    {
        _revealVersion = revealVersion;
        Pop3Port = PickPort(Address, WellKnownPop3Port, ProtocolType.Tcp);
    }

    public int Pop3Port { get; }

    public IPEndPoint Pop3EndPoint => new(Address, Pop3Port);

    /// <summary>The certificate offered after STARTTLS / STLS (set once started).</summary>
    public SelfSignedCertificate? Certificate { get; private set; }

    /// <summary>Version truth of the installed Dovecot (from `dovecot --version`, "2.3.19.1 (9b53102964)"); skips when absent.</summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("dovecot", "dovecot-core");
        Requires.File("/usr/lib/dovecot/imap-login", "Dovecot's IMAP server (apt-get install dovecot-imapd)");
        Requires.File("/usr/lib/dovecot/pop3-login", "Dovecot's POP3 server (apt-get install dovecot-pop3d)");
        return DaemonIdentity.FromBinary("Dovecot", exe, ["--version"], @"^(\d+(?:\.\d+)+)", "dovecot-core");
    }

    /// <param name="revealVersion">
    /// Answer IMAP ID with name and version (<c>imap_id_send = name * version *</c>); by default Dovecot's ID says only
    /// its name, and neither greeting names a version.
    /// </param>
    public static async Task<DovecotDaemon> StartAsync(DaemonOptions? options = null, bool revealVersion = false, CancellationToken cancellationToken = default)
    {
        var identity = Installed();
        if (!RunningAsRoot)
        {
            Requires.SkipOrFail("Dovecot's master must start as root (its login processes drop to the dovenull account).");
        }

        var daemon = new DovecotDaemon(identity, options, revealVersion);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        // Login processes run as dovenull and chroot into base_dir/login: they must be able to traverse our temp dir.
        SetUnixMode(TempDirectory, WorldReadable);
        Directory.CreateDirectory(PathIn("run"));
        Directory.CreateDirectory(PathIn("state"));
        Directory.CreateDirectory(PathIn("mail"));
        await File.WriteAllTextAsync(PathIn("passwd"), string.Empty, cancellationToken).ConfigureAwait(false);
        Certificate = await SelfSignedCertificate.CreateAsync(TempDirectory, HostName, cancellationToken).ConfigureAwait(false);
        var config = string.Create(CultureInfo.InvariantCulture, $$"""
            protocols = imap pop3
            listen = {{Address}}
            base_dir = {{PathIn("run")}}
            state_dir = {{PathIn("state")}}
            instance_name = exposureindex-{{Address}}-{{Port}}
            log_path = /dev/stderr
            info_log_path = /dev/stderr
            ssl = yes
            ssl_cert = <{{Certificate.CertificatePath}}
            ssl_key = <{{Certificate.KeyPath}}
            disable_plaintext_auth = yes
            auth_mechanisms = plain login
            passdb {
              driver = passwd-file
              args = {{PathIn("passwd")}}
            }
            userdb {
              driver = passwd-file
              args = {{PathIn("passwd")}}
            }
            mail_location = maildir:{{PathIn("mail")}}/%u
            {{(_revealVersion ? "imap_id_send = name * version *" : string.Empty)}}
            service imap-login {
              inet_listener imap {
                port = {{Port}}
              }
              inet_listener imaps {
                port = 0
              }
            }
            service pop3-login {
              inet_listener pop3 {
                port = {{Pop3Port}}
              }
              inet_listener pop3s {
                port = 0
              }
            }

            """);
        await File.WriteAllTextAsync(PathIn("dovecot.conf"), config, cancellationToken).ConfigureAwait(false);
    }

    protected override DaemonCommand CreateCommand() => new(Identity.Executable, ["-F", "-c", PathIn("dovecot.conf")]);

    // Ready when both login services greet.
    protected override async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            var imap = await WireProbe.ReadBannerLineAsync(EndPoint, TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
            var pop3 = await WireProbe.ReadBannerLineAsync(Pop3EndPoint, TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
            return imap.StartsWith("* OK", StringComparison.Ordinal) && pop3.StartsWith("+OK", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is TimeoutException or SocketException)
        {
            return false;
        }
    }
}
