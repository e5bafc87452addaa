using ExposureIndex.Grabbers.Smtp;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Smtp;

/// <summary>The SMTP grabber against Debian's Postfix.</summary>
public sealed class SmtpGrabberDaemonTests
{
    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_PostfixDebianBanner_PostfixWithoutVersionAndExtensions()
    {
        await using var postfix = await PostfixDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new SmtpGrabber(), postfix);

        Assert.Equal(postfix.Product, record.Product);
        // Debian's banner "$myhostname ESMTP $mail_name (Debian/GNU)" names no version: none is guessed.
        Assert.Equal(string.Empty, record.Version);
        Assert.Equal("Debian", record.Os);
        Assert.Equal(PostfixDaemon.HostName, record.Smtp.Hostname);
        Assert.True(record.Smtp.Esmtp);
        Assert.True(record.Smtp.Starttls);
        Assert.Contains("PIPELINING", record.Smtp.Extensions);
        Assert.True(record.Smtp.MaxSize > 0);
        Assert.Empty(record.Smtp.AuthMechanisms);
    }

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_PostfixBannerWithMailVersion_ExactVersion()
    {
        await using var postfix = await PostfixDaemon.StartAsync(versionInBanner: true, cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new SmtpGrabber(), postfix);

        GrabRun.AssertExactVersion(record, postfix, "postfix", "postfix");
    }
}
