using System.Net;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers;
using ExposureIndex.Grabbers.Imap;
using ExposureIndex.IntegrationTests.Daemons;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Imap;

/// <summary>The IMAP grabber against Debian's Dovecot.</summary>
public sealed class ImapGrabberDaemonTests
{
    private static GrabContext Context(IPEndPoint endPoint) => new()
    {
        Target = new GrabTarget(endPoint.Address, endPoint.Port, Transport.Tcp),
        Limits = new GrabLimits(),
        Network = SocketGrabNetwork.Instance,
    };

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task GrabAsync_DovecotDefaults_ProductCapabilitiesNoVersion()
    {
        await using var dovecot = await DovecotDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var result = await new ImapGrabber().GrabAsync(Context(dovecot.EndPoint), DaemonAssert.Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{dovecot.LogTail()}");
        var record = result.Fragment;
        Assert.Equal(dovecot.Product, record.Product);
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal("OK", record.Imap.GreetingStatus);
        Assert.True(record.Imap.Starttls);
        Assert.True(record.Imap.LoginDisabled);
        Assert.Contains("IMAP4rev1", record.Imap.Capabilities);
        Assert.Equal("Dovecot", record.Imap.Id["name"]);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task GrabAsync_DovecotIdWithVersion_ExactVersion()
    {
        await using var dovecot = await DovecotDaemon.StartAsync(revealVersion: true, cancellationToken: DaemonAssert.Ct);

        var result = await new ImapGrabber().GrabAsync(Context(dovecot.EndPoint), DaemonAssert.Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{dovecot.LogTail()}");
        Assert.Equal(dovecot.Product, result.Fragment.Product);
        Assert.Equal(dovecot.Version, result.Fragment.Version);
        Assert.Equal($"cpe:2.3:a:dovecot:dovecot:{dovecot.Version}:*:*:*:*:*:*:*", result.Fragment.Cpe23.Single());
    }
}
