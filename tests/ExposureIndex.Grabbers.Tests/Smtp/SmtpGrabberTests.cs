using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Smtp;
using ExposureIndex.Grabbers.Tests.Support;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Grabbers.Tests.Smtp;

public sealed class SmtpGrabberTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_ScriptedServer_EhloQuitAndNothingElse()
    {
        await using var server = TestServer.Scripted("220 mx.example.test ESMTP Exim 4.96\r\n"u8.ToArray(), command => command.Split(' ')[0] switch
        {
            "EHLO" => "250-mx.example.test Hello\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n"u8.ToArray(),
            "QUIT" => "221 bye\r\n"u8.ToArray(),
            _ => "500 unexpected\r\n"u8.ToArray(),
        });

        var result = await new SmtpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.Equal("Exim", result.Fragment.Product);
        Assert.True(result.Fragment.Smtp.Starttls);
        Assert.Equal(["PLAIN"], result.Fragment.Smtp.AuthMechanisms);
        await Poll.UntilAsync(() => server.ReceivedLines.Count >= 2, TimeSpan.FromSeconds(5), Ct);
        Assert.Equal(["EHLO exposureindex.invalid", "QUIT"], server.ReceivedLines);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Tarpit_IoTimeout()
    {
        Assert.Equal(GrabOutcome.IoTimeout, (await HostilePeers.TarpitAsync(new SmtpGrabber())).Outcome);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_EndlessMultilineGreeting_ProtocolError()
    {
        var (result, written) = await HostilePeers.EndlessLinesAsync(new SmtpGrabber(), "220-mx\r\n", "220-spam spam spam\r\n");

        Assert.Equal(GrabOutcome.ProtocolError, result.Outcome);
        Assert.True(written < HostilePeers.TenMegabytes);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_LineThatNeverEnds_ProtocolError()
    {
        var (result, written) = await HostilePeers.EndlessLineAsync(new SmtpGrabber(), "220 ");

        Assert.Equal(GrabOutcome.ProtocolError, result.Outcome);
        Assert.True(written < HostilePeers.TenMegabytes);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_BinaryGarbage_ProtocolError()
    {
        Assert.Equal(GrabOutcome.ProtocolError, (await HostilePeers.GarbageAsync(new SmtpGrabber())).Result.Outcome);
    }
}
