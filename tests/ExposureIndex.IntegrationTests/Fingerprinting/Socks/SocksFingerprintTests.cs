using ExposureIndex.TestCommon.Daemons;
using static ExposureIndex.IntegrationTests.Fingerprinting.FingerprintHarness;

namespace ExposureIndex.IntegrationTests.Fingerprinting.Socks;

public sealed class SocksFingerprintTests
{
    [Fact(Timeout = TestTimeoutMs)]
    public async Task IdentifyTcpAsync_Dante_IsSocks5WithItsMethodChoice()
    {
        await using var daemon = await DanteDaemon.StartAsync(cancellationToken: Ct);
        var result = await IdentifyTcpAsync(daemon.EndPoint);

        Assert.Equal("socks5", result.Service);
        Assert.Equal("no authentication required", result.Fingerprint!.Info);
        // The method-selection reply is all a SOCKS server says without a request naming a host, and we never send
        // one: the implementation (Dante) cannot be told apart from other SOCKS5 servers, so no product is claimed.
        Assert.Null(result.Fingerprint.Product);
        Assert.DoesNotContain("connect", daemon.LogTail(), StringComparison.OrdinalIgnoreCase);
    }
}
