using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers;
using ExposureIndex.Grabbers.Dns;
using ExposureIndex.IntegrationTests.Daemons;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Dns;

/// <summary>Both DNS grabbers against Debian's BIND 9 (authoritative only): product and the exact version named reports.</summary>
public sealed class DnsGrabberDaemonTests
{
    private static GrabContext Context(Daemon daemon, Transport transport) => new()
    {
        Target = new GrabTarget(daemon.Address, daemon.Port, transport),
        Limits = new GrabLimits(),
        Network = SocketGrabNetwork.Instance,
    };

    [Theory(Timeout = DaemonAssert.TestTimeoutMs)]
    [InlineData(Transport.Udp)]
    [InlineData(Transport.Tcp)]
    public async Task GrabAsync_Bind_ProductExactVersionNoRecursionAndHostname(Transport transport)
    {
        await using var named = await BindDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);
        IGrabber grabber = transport == Transport.Udp ? new DnsUdpGrabber() : new DnsTcpGrabber();

        var result = await grabber.GrabAsync(Context(named, transport), DaemonAssert.Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{named.LogTail()}");
        var record = result.Fragment;
        Assert.Equal(transport == Transport.Udp ? "dns-udp" : "dns-tcp", record.Module);
        Assert.Equal(named.Product, record.Product);
        Assert.Equal(named.Version, record.Version);
        Assert.Equal($"cpe:2.3:a:isc:bind:{named.Version}:*:*:*:*:*:*:*", record.Cpe23.Single());
        // version.bind answers BIND's own version string, which starts with the upstream version.
        Assert.StartsWith(named.Version + "-", record.Dns.Software, StringComparison.Ordinal);
        Assert.True(record.Dns.HasRecursive);
        Assert.False(record.Dns.Recursive);
        Assert.True(record.Dns.Authoritative);
        Assert.Equal(System.Net.Dns.GetHostName(), record.Dns.ResolverHostname);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task DisposeAsync_Bind_StopsAndTakesItsAddressOffLo()
    {
        var named = await BindDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);
        var address = named.Address.ToString();
        Assert.Contains($" inet {address}/32 ", LoAddresses(), StringComparison.Ordinal);

        await DaemonAssert.StopsCleanlyAsync(named);

        Assert.DoesNotContain($" inet {address}/32 ", LoAddresses(), StringComparison.Ordinal);
    }

    private static string LoAddresses()
        => Tool.Run(TestCommon.Requires.Executable("ip", "iproute2"), ["-o", "-4", "addr", "show", "dev", "lo"], TimeSpan.FromSeconds(20)).StandardOutput;
}
