using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's vsftpd as <see cref="VsftpdDaemon"/> starts it, plus <c>ssl_enable=YES</c> with a self-signed certificate:
/// FEAT lists AUTH TLS, and AUTH TLS upgrades the control connection. The default banner is kept. No login works
/// (anonymous off, no test account), TLS or not.
/// </summary>
public sealed class VsftpdTlsDaemon : Daemon
{
    public const string HostName = "ftp.exposureindex.test";

    private VsftpdTlsDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("vsftpd-tls", identity, options, VsftpdDaemon.WellKnownPort)
    {
    }

    /// <summary>The certificate offered after AUTH TLS (set once started).</summary>
    public SelfSignedCertificate? Certificate { get; private set; }

    protected override IEnumerable<string> LogFiles => [PathIn("vsftpd.log")];

    public static async Task<VsftpdTlsDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var daemon = new VsftpdTlsDaemon(VsftpdDaemon.Installed(), options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        var empty = Directory.CreateDirectory(PathIn("empty")).FullName;
        SetUnixMode(empty, WorldReadable);
        Certificate = await SelfSignedCertificate.CreateAsync(TempDirectory, HostName, cancellationToken).ConfigureAwait(false);
        var config = string.Create(CultureInfo.InvariantCulture, $"""
            listen=YES
            listen_ipv6=NO
            listen_address={Address}
            listen_port={Port}
            background=NO
            anonymous_enable=NO
            local_enable=YES
            write_enable=NO
            pam_service_name=vsftpd
            secure_chroot_dir={empty}
            xferlog_enable=NO
            vsftpd_log_file={PathIn("vsftpd.log")}
            connect_from_port_20=NO
            max_clients=100
            max_per_ip=100
            idle_session_timeout=60
            data_connection_timeout=30
            ssl_enable=YES
            rsa_cert_file={Certificate.CertificatePath}
            rsa_private_key_file={Certificate.KeyPath}

            """);
        await File.WriteAllTextAsync(PathIn("vsftpd.conf"), config, cancellationToken).ConfigureAwait(false);
    }

    protected override DaemonCommand CreateCommand() => new(Identity.Executable, [PathIn("vsftpd.conf")]);
}
