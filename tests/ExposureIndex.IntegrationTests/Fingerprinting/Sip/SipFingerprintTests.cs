using ExposureIndex.TestCommon.Daemons;
using static ExposureIndex.IntegrationTests.Fingerprinting.FingerprintHarness;

namespace ExposureIndex.IntegrationTests.Fingerprinting.Sip;

public sealed class SipFingerprintTests
{
    [Fact(Timeout = TestTimeoutMs)]
    public async Task IdentifyTcpAsync_Kamailio_ProductAndExactVersion()
    {
        await using var daemon = await KamailioDaemon.StartAsync(cancellationToken: Ct);
        var fingerprint = AssertIdentified(await IdentifyTcpAsync(daemon.EndPoint), "sip", daemon);
        Assert.Equal(daemon.Version, fingerprint.Version);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task IdentifyUdpAsync_Kamailio_ProductAndExactVersion()
    {
        await using var daemon = await KamailioDaemon.StartAsync(cancellationToken: Ct);
        var fingerprint = AssertIdentified(await IdentifyUdpAsync(daemon.EndPoint), "sip", daemon);
        Assert.Equal(daemon.Version, fingerprint.Version);
    }
}
