using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Smtp;
using ExposureIndex.Grabbers.Tests.Support;

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
        Assert.Equal(["EHLO exposureindex.invalid", "QUIT"], await server.WaitForLinesAsync(2));
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Tarpit_IoTimeout()
    {
        Assert.Equal(GrabOutcome.IoTimeout, (await HostilePeers.TarpitAsync(new SmtpGrabber())).Outcome);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_EndlessMultilineGreeting_ProtocolError()
    {
        (await HostilePeers.EndlessLinesAsync(new SmtpGrabber(), "220-mx\r\n", "220-spam spam spam\r\n")).AssertStoppedEarly();
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_LineThatNeverEnds_ProtocolError()
    {
        (await HostilePeers.EndlessLineAsync(new SmtpGrabber(), "220 ")).AssertStoppedEarly();
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_BinaryGarbage_ProtocolError()
    {
        Assert.Equal(GrabOutcome.ProtocolError, (await HostilePeers.GarbageAsync(new SmtpGrabber())).Result.Outcome);
    }
}
