using ExposureIndex.TestCommon.Daemons;
using static ExposureIndex.IntegrationTests.Fingerprinting.FingerprintHarness;

namespace ExposureIndex.IntegrationTests.Fingerprinting.Irc;

public sealed class IrcFingerprintTests
{
    [Fact(Timeout = TestTimeoutMs)]
    public async Task IdentifyTcpAsync_Ngircd_ProductExactVersionAndServerName()
    {
        await using var daemon = await NgircdDaemon.StartAsync(cancellationToken: Ct);
        var fingerprint = AssertIdentified(await IdentifyTcpAsync(daemon.EndPoint), "irc", daemon);
        Assert.Equal(daemon.Version, fingerprint.Version);
        Assert.Equal(daemon.ServerName, fingerprint.Hostname);
    }
}
