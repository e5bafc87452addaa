using System.Net;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers;
using ExposureIndex.Grabbers.Smtp;
using ExposureIndex.IntegrationTests.Daemons;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Smtp;

/// <summary>The SMTP grabber against Debian's Postfix.</summary>
public sealed class SmtpGrabberDaemonTests
{
    private static GrabContext Context(IPEndPoint endPoint) => new()
    {
        Target = new GrabTarget(endPoint.Address, endPoint.Port, Transport.Tcp),
        Limits = new GrabLimits(),
        Network = SocketGrabNetwork.Instance,
    };

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task GrabAsync_PostfixDebianBanner_PostfixWithoutVersionAndExtensions()
    {
        await using var postfix = await PostfixDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var result = await new SmtpGrabber().GrabAsync(Context(postfix.EndPoint), DaemonAssert.Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{postfix.LogTail()}");
        var record = result.Fragment;
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

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task GrabAsync_PostfixBannerWithMailVersion_ExactVersion()
    {
        await using var postfix = await PostfixDaemon.StartAsync(versionInBanner: true, cancellationToken: DaemonAssert.Ct);

        var result = await new SmtpGrabber().GrabAsync(Context(postfix.EndPoint), DaemonAssert.Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{postfix.LogTail()}");
        Assert.Equal(postfix.Product, result.Fragment.Product);
        Assert.Equal(postfix.Version, result.Fragment.Version);
        Assert.Equal($"cpe:2.3:a:postfix:postfix:{postfix.Version}:*:*:*:*:*:*:*", result.Fragment.Cpe23.Single());
    }
}
