using ExposureIndex.TestCommon.Daemons;
using static ExposureIndex.IntegrationTests.Fingerprinting.FingerprintHarness;

namespace ExposureIndex.IntegrationTests.Fingerprinting.HttpProxy;

/// <summary>HTTP proxies, identified from their answer to a request for themselves (never for another host).</summary>
public sealed class HttpProxyFingerprintTests
{
    [Fact(Timeout = TestTimeoutMs)]
    public async Task IdentifyTcpAsync_Squid_ProductAndExactVersion()
    {
        await using var daemon = await SquidDaemon.StartAsync(cancellationToken: Ct);
        var fingerprint = AssertIdentified(await IdentifyTcpAsync(daemon.EndPoint), "http-proxy", daemon);
        Assert.Equal(daemon.Version, fingerprint.Version);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task IdentifyTcpAsync_Varnish_ProductAndWireVersion()
    {
        await using var daemon = await VarnishDaemon.StartAsync(cancellationToken: Ct);
        var fingerprint = AssertIdentified(await IdentifyTcpAsync(daemon.EndPoint), "http-proxy", daemon);
        Assert.Equal(daemon.Version, fingerprint.Version);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task IdentifyTcpAsync_Tinyproxy_ProductAndExactVersion()
    {
        await using var daemon = await TinyproxyDaemon.StartAsync(cancellationToken: Ct);
        var fingerprint = AssertIdentified(await IdentifyTcpAsync(daemon.EndPoint), "http-proxy", daemon);
        Assert.Equal(daemon.Version, fingerprint.Version);
    }
}
