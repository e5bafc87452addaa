using System.Globalization;

namespace ExposureIndex.TestCommon.Daemons;

/// <summary>
/// Debian's vsftpd in standalone mode (<c>listen=YES</c>, <c>background=NO</c>) on one private loopback address.
/// Anonymous access is off; local logins go through PAM, and no test account exists.
/// </summary>
public sealed class VsftpdDaemon : Daemon
{
    public const int WellKnownPort = 21;

    private VsftpdDaemon(DaemonIdentity identity, DaemonOptions? options)
        : base("vsftpd", identity, options, WellKnownPort)
    {
    }

    protected override IEnumerable<string> LogFiles => [PathIn("vsftpd.log")];

    /// <summary>
    /// Version truth of the installed vsftpd. `vsftpd -v` writes "vsftpd: version 3.0.3" to file descriptor 0 (not 1),
    /// so the query runs through sh with fd 0 pointed at stdout. Skips when vsftpd is absent.
    /// </summary>
    public static DaemonIdentity Installed()
    {
        var exe = Requires.Executable("vsftpd", "vsftpd");
        return DaemonIdentity.FromBinary("vsftpd", exe, ["-c", "exec \"$0\" -v 0>&1", exe], @"version (\d+\.\d+\.\d+)", "vsftpd", runThrough: "/bin/sh");
    }

    public static async Task<VsftpdDaemon> StartAsync(DaemonOptions? options = null, CancellationToken cancellationToken = default)
    {
        var daemon = new VsftpdDaemon(Installed(), options);
        await daemon.LaunchAsync(cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        // The unprivileged session process chroots here; it must exist, be owned by root and not be writable.
        var empty = Directory.CreateDirectory(PathIn("empty")).FullName;
        SetUnixMode(empty, WorldReadable);
        // vsftpd refuses to start with both anonymous and local logins disabled, so local logins stay on (via PAM).
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

            """);
        var path = PathIn("vsftpd.conf");
        await File.WriteAllTextAsync(path, config, cancellationToken).ConfigureAwait(false);
    }

    protected override DaemonCommand CreateCommand() => new(Identity.Executable, [PathIn("vsftpd.conf")]);
}
