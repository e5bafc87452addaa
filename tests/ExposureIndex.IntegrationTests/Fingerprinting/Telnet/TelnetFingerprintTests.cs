using ExposureIndex.TestCommon.Daemons;
using static ExposureIndex.IntegrationTests.Fingerprinting.FingerprintHarness;

namespace ExposureIndex.IntegrationTests.Fingerprinting.Telnet;

public sealed class TelnetFingerprintTests
{
    [Fact(Timeout = TestTimeoutMs)]
    public async Task IdentifyTcpAsync_InetutilsTelnetd_IdentifiedByItsOptionNegotiation()
    {
        await using var daemon = await TelnetDaemon.StartAsync(cancellationToken: Ct);
        var result = await IdentifyTcpAsync(daemon.EndPoint);

        var fingerprint = AssertIdentified(result, "telnet", daemon);
        // telnetd sends no version before login; the option sequence names the implementation only.
        Assert.Null(fingerprint.Version);
    }
}
