using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers;
using ExposureIndex.Grabbers.Dns;
using ExposureIndex.IntegrationTests.Daemons;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Dns;

/// <summary>Both DNS grabbers against Debian's BIND 9 (authoritative only): product and the exact version named reports.</summary>
public sealed class DnsGrabberDaemonTests
{
    [Theory(Timeout = GrabRun.TestTimeoutMs)]
    [InlineData(Transport.Udp)]
    [InlineData(Transport.Tcp)]
    public async Task GrabAsync_Bind_ProductExactVersionNoRecursionAndHostname(Transport transport)
    {
        await using var named = await BindDaemon.StartAsync(cancellationToken: GrabRun.Ct);
        IGrabber grabber = transport == Transport.Udp ? new DnsUdpGrabber() : new DnsTcpGrabber();

        var record = await GrabRun.SucceedsAsync(grabber, named);

        Assert.Equal(transport == Transport.Udp ? "dns-udp" : "dns-tcp", record.Module);
        GrabRun.AssertExactVersion(record, named, "isc", "bind");
        // version.bind answers BIND's own version string, which starts with the upstream version.
        Assert.StartsWith(named.Version + "-", record.Dns.Software, StringComparison.Ordinal);
        Assert.True(record.Dns.HasRecursive);
        Assert.False(record.Dns.Recursive);
        Assert.True(record.Dns.Authoritative);
        Assert.Equal(System.Net.Dns.GetHostName(), record.Dns.ResolverHostname);
    }

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task DisposeAsync_Bind_StopsAndTakesItsAddressOffLo()
    {
        var named = await BindDaemon.StartAsync(cancellationToken: GrabRun.Ct);
        var address = named.Address.ToString();
        Assert.Contains($" inet {address}/32 ", LoAddresses(), StringComparison.Ordinal);

        await DaemonAssert.StopsCleanlyAsync(named);

        Assert.DoesNotContain($" inet {address}/32 ", LoAddresses(), StringComparison.Ordinal);
    }

    private static string LoAddresses()
        => Tool.Run(TestCommon.Requires.Executable("ip", "iproute2"), ["-o", "-4", "addr", "show", "dev", "lo"], TimeSpan.FromSeconds(20)).StandardOutput;
}
