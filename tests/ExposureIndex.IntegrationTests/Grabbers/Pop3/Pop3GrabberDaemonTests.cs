using System.Net;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers;
using ExposureIndex.Grabbers.Pop3;
using ExposureIndex.IntegrationTests.Daemons;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Pop3;

/// <summary>The POP3 grabber against Debian's Dovecot.</summary>
public sealed class Pop3GrabberDaemonTests
{
    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task GrabAsync_Dovecot_ProductWithoutVersionAndStls()
    {
        await using var dovecot = await DovecotDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);
        var context = new GrabContext
        {
            Target = new GrabTarget(dovecot.Address, dovecot.Pop3Port, Transport.Tcp),
            Limits = new GrabLimits(),
            Network = SocketGrabNetwork.Instance,
        };

        var result = await new Pop3Grabber().GrabAsync(context, DaemonAssert.Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{dovecot.LogTail()}");
        var record = result.Fragment;
        Assert.Equal(dovecot.Product, record.Product);
        // Dovecot's POP3 greeting and CAPA never name its version.
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal("Debian", record.Os);
        Assert.True(record.Pop3.GreetingOk);
        Assert.True(record.Pop3.Starttls);
        Assert.Contains("UIDL", record.Pop3.Capabilities);
    }
}
