using ExposureIndex.TestCommon.Daemons;
using static ExposureIndex.IntegrationTests.Fingerprinting.FingerprintHarness;

namespace ExposureIndex.IntegrationTests.Fingerprinting.Xmpp;

public sealed class XmppFingerprintTests
{
    [Fact(Timeout = TestTimeoutMs)]
    public async Task IdentifyTcpAsync_Prosody_IdentifiedByItsStreamHeader()
    {
        await using var daemon = await ProsodyDaemon.StartAsync(cancellationToken: Ct);
        var fingerprint = AssertIdentified(await IdentifyTcpAsync(daemon.EndPoint), "xmpp", daemon);
        // Prosody names no version before authentication (XEP-0092 needs a session).
        Assert.Null(fingerprint.Version);
    }
}
