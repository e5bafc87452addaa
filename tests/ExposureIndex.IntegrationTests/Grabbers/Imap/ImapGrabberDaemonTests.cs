using ExposureIndex.Grabbers.Imap;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Imap;

/// <summary>The IMAP grabber against Debian's Dovecot.</summary>
public sealed class ImapGrabberDaemonTests
{
    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_DovecotDefaults_ProductCapabilitiesNoVersion()
    {
        await using var dovecot = await DovecotDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new ImapGrabber(), dovecot);

        Assert.Equal(dovecot.Product, record.Product);
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal("OK", record.Imap.GreetingStatus);
        Assert.True(record.Imap.Starttls);
        Assert.True(record.Imap.LoginDisabled);
        Assert.Contains("IMAP4rev1", record.Imap.Capabilities);
        Assert.Equal("Dovecot", record.Imap.Id["name"]);
    }

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_DovecotIdWithVersion_ExactVersion()
    {
        await using var dovecot = await DovecotDaemon.StartAsync(revealVersion: true, cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new ImapGrabber(), dovecot);

        GrabRun.AssertExactVersion(record, dovecot, "dovecot", "dovecot");
    }
}
