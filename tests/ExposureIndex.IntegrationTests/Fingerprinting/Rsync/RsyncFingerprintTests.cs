using ExposureIndex.TestCommon.Daemons;
using static ExposureIndex.IntegrationTests.Fingerprinting.FingerprintHarness;

namespace ExposureIndex.IntegrationTests.Fingerprinting.Rsync;

public sealed class RsyncFingerprintTests
{
    [Fact(Timeout = TestTimeoutMs)]
    public async Task IdentifyTcpAsync_RsyncDaemon_ProductAndProtocolVersion()
    {
        await using var daemon = await RsyncDaemon.StartAsync(cancellationToken: Ct);
        var result = await IdentifyTcpAsync(daemon.EndPoint);

        var fingerprint = AssertIdentified(result, "rsync", daemon);
        // The greeting carries the protocol version only (rsync's clientserver.c), never the program's.
        Assert.Equal($"protocol version {RsyncDaemon.ProtocolVersion()}", fingerprint.Info);
        Assert.Null(fingerprint.Version);
    }
}
