using ExposureIndex.Grabbers.Pop3;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Pop3;

/// <summary>The POP3 grabber against Debian's Dovecot.</summary>
public sealed class Pop3GrabberDaemonTests
{
    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_Dovecot_ProductWithoutVersionAndStls()
    {
        await using var dovecot = await DovecotDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new Pop3Grabber(), dovecot, GrabRun.Context(dovecot.Pop3EndPoint));

        Assert.Equal(dovecot.Product, record.Product);
        // Dovecot's POP3 greeting and CAPA never name its version.
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal("Debian", record.Os);
        Assert.True(record.Pop3.GreetingOk);
        Assert.True(record.Pop3.Starttls);
        Assert.Contains("UIDL", record.Pop3.Capabilities);
    }
}
