using ExposureIndex.Grabbers.Dns;

namespace ExposureIndex.Grabbers.Tests.Dns;

public sealed class DnsSoftwareTests
{
    [Theory]
    [InlineData("9.18.49-1~deb12u3-Debian", "ISC BIND", "9.18.49", "cpe:2.3:a:isc:bind:9.18.49:*:*:*:*:*:*:*")]
    [InlineData("9.18.24-1-Debian", "ISC BIND", "9.18.24", "cpe:2.3:a:isc:bind:9.18.24:*:*:*:*:*:*:*")]
    [InlineData("BIND 9.11.4-P2-RedHat-9.11.4-26.P2.el7", "ISC BIND", "9.11.4-P2", "cpe:2.3:a:isc:bind:9.11.4-p2:*:*:*:*:*:*:*")]
    [InlineData("9.16.1-Ubuntu", "ISC BIND", "9.16.1", "cpe:2.3:a:isc:bind:9.16.1:*:*:*:*:*:*:*")]
    [InlineData("dnsmasq-2.89", "dnsmasq", "2.89", "cpe:2.3:a:thekelleys:dnsmasq:2.89:*:*:*:*:*:*:*")]
    [InlineData("unbound 1.17.1", "Unbound", "1.17.1", "cpe:2.3:a:nlnetlabs:unbound:1.17.1:*:*:*:*:*:*:*")]
    [InlineData("PowerDNS Authoritative Server 4.7.3 (built Jan 21 2023 by root@localhost)", "PowerDNS Authoritative Server", "4.7.3", "cpe:2.3:a:powerdns:authoritative:4.7.3:*:*:*:*:*:*:*")]
    [InlineData("Knot DNS 3.2.6", "Knot DNS", "3.2.6", "cpe:2.3:a:nic:knot_dns:3.2.6:*:*:*:*:*:*:*")]
    [InlineData("NSD", "NSD", "", "cpe:2.3:a:nlnetlabs:nsd:*:*:*:*:*:*:*:*")]
    public void TryParse_KnownServers_ProductVersionAndCpe(string software, string product, string version, string cpe)
    {
        Assert.True(DnsSoftware.TryParse(software, out var parsed));
        Assert.Equal(product, parsed.Product);
        Assert.Equal(version, parsed.Version ?? string.Empty);
        Assert.Equal(cpe, parsed.Cpe23);
    }

    [Fact]
    public void TryParse_DebianBind_InfoAndOs()
    {
        Assert.True(DnsSoftware.TryParse("9.18.49-1~deb12u3-Debian", out var parsed));
        Assert.Equal("Debian", parsed.Info);
        Assert.Equal("Linux", parsed.Os);
    }

    [Theory]
    [InlineData("")]
    [InlineData("none")]
    [InlineData("Go away")]
    [InlineData("9")]
    public void TryParse_HiddenOrJokeVersion_NoProduct(string software) => Assert.False(DnsSoftware.TryParse(software, out _));
}
