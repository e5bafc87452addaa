namespace ExposureIndex.Grabbers;

/// <summary>
/// Every grabber, listed explicitly (no assembly scanning, GUIDE §3.1). Adding a protocol means adding a folder,
/// its fixtures, a real-daemon test and one line here.
/// </summary>
public static class GrabberCatalog
{
    public static IReadOnlyList<IGrabber> All { get; } =
    [
        // One line per grabber, keep alphabetical.
        new Dns.DnsTcpGrabber(),
        new Dns.DnsUdpGrabber(),
        new Ftp.FtpGrabber(),
        new Http.HttpGrabber(),
        new Imap.ImapGrabber(),
        new Ldap.LdapGrabber(),
        new Memcached.MemcachedGrabber(),
        new Mqtt.MqttGrabber(),
        new Mysql.MysqlGrabber(),
        new Ntp.NtpGrabber(),
        new Pop3.Pop3Grabber(),
        new Postgresql.PostgresqlGrabber(),
        new Rdp.RdpGrabber(),
        new Redis.RedisGrabber(),
        new Smb.SmbGrabber(),
        new Smtp.SmtpGrabber(),
        new Snmp.SnmpGrabber(),
        new Ssh.SshGrabber(),
        new Tls.TlsGrabber(),
        new Vnc.VncGrabber(),
    ];

    /// <summary>Grabbers that deepen <paramref name="service"/> (nmap's service name) on <paramref name="transport"/>.</summary>
    public static IEnumerable<IGrabber> ForService(string service, Contracts.V1.Transport transport)
        => All.Where(g => g.Transport == transport && g.Services.Contains(service, StringComparer.OrdinalIgnoreCase));

    /// <summary>Grabbers whose usual ports include <paramref name="port"/>: the fallback when nothing identified the service.</summary>
    public static IEnumerable<IGrabber> ForPort(int port, Contracts.V1.Transport transport)
        => All.Where(g => g.Transport == transport && g.Ports.Contains(port));
}
