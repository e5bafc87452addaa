using ExposureIndex.Crawler.Fingerprinting.Probes;

namespace ExposureIndex.Crawler.Tests.Fingerprinting;

/// <summary>Our embedded probe file: every line loads, every pattern compiles, the required protocols are covered.</summary>
public sealed class OwnProbeFileTests
{
    [Fact]
    public void Default_EmbeddedFile_LoadsWithoutDiagnosticsAndCompilesEveryPattern()
    {
        var catalog = ProbeCatalog.Default;
        Assert.Empty(catalog.Diagnostics);
        Assert.Empty(catalog.CompileAll());
        Assert.NotNull(catalog.Null);
        Assert.True(catalog.MatchCount > 150, $"{catalog.MatchCount} match lines");
    }

    [Theory]
    [InlineData("ssh")]
    [InlineData("http")]
    [InlineData("http-proxy")]
    [InlineData("ftp")]
    [InlineData("smtp")]
    [InlineData("pop3")]
    [InlineData("imap")]
    [InlineData("ssl")]
    [InlineData("redis")]
    [InlineData("memcached")]
    [InlineData("mysql")]
    [InlineData("postgresql")]
    [InlineData("mongodb")]
    [InlineData("mqtt")]
    [InlineData("domain")]
    [InlineData("ldap")]
    [InlineData("rsync")]
    [InlineData("telnet")]
    [InlineData("vnc")]
    [InlineData("ms-wbt-server")]
    [InlineData("microsoft-ds")]
    [InlineData("sip")]
    [InlineData("irc")]
    [InlineData("xmpp")]
    [InlineData("socks5")]
    [InlineData("ntp")]
    [InlineData("snmp")]
    [InlineData("beanstalkd")]
    [InlineData("nats")]
    [InlineData("amqp")]
    [InlineData("pgbouncer")]
    [InlineData("etcd")]
    [InlineData("zookeeper")]
    public void Default_EmbeddedFile_HasHardMatchesForService(string service)
    {
        Assert.Contains(ProbeCatalog.Default.Probes.SelectMany(p => p.Matches), m => !m.IsSoft && m.Service == service);
    }

    [Fact]
    public void Default_UdpProbes_CoverDnsSnmpNtpSip()
    {
        var udp = ProbeCatalog.Default.Udp;
        Assert.Contains(udp, p => p.Ports.Contains(53));
        Assert.Contains(udp, p => p.Ports.Contains(161));
        Assert.Contains(udp, p => p.Ports.Contains(123));
        Assert.Contains(udp, p => p.Ports.Contains(5060));
    }

    [Fact]
    public void Default_Socks5Probe_NeverNamesAHost()
    {
        // RFC 1928 §3: a version-5 greeting is VER, NMETHODS, METHODS. Anything longer would be a request.
        var probe = Assert.Single(ProbeCatalog.Default.Tcp, p => p.Name == "Socks5Methods");
        Assert.Equal(5, probe.Payload[0]);
        Assert.Equal(2 + probe.Payload[1], probe.Payload.Length);
    }
}
