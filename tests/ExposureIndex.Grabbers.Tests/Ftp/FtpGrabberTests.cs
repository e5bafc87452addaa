using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Ftp;
using ExposureIndex.Grabbers.Tests.Support;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Grabbers.Tests.Ftp;

/// <summary>The grabber's I/O against in-test servers: what it sends, and what hostile peers cost it.</summary>
public sealed class FtpGrabberTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_ScriptedVsftpd_SendsFeatSystQuitAndNoCredentials()
    {
        await using var server = TestServer.Scripted("220 (vsFTPd 3.0.3)\r\n"u8.ToArray(), command => command switch
        {
            "FEAT" => "211-Features:\r\n AUTH TLS\r\n EPSV\r\n211 End\r\n"u8.ToArray(),
            "SYST" => "215 UNIX Type: L8\r\n"u8.ToArray(),
            "QUIT" => "221 Goodbye.\r\n"u8.ToArray(),
            _ => "530 Please login with USER and PASS.\r\n"u8.ToArray(),
        });

        var result = await new FtpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.Equal("vsftpd", result.Fragment.Product);
        Assert.Equal("3.0.3", result.Fragment.Version);
        Assert.True(result.Fragment.Ftp.AuthTls);
        Assert.Equal("UNIX Type: L8", result.Fragment.Ftp.System);
        Assert.Equal("ftp", result.Fragment.Module);
        Assert.Equal(["FEAT", "SYST", "QUIT"], await server.WaitForLinesAsync(3));
        Assert.DoesNotContain(server.ReceivedLines, l => l.StartsWith("USER", StringComparison.OrdinalIgnoreCase) || l.StartsWith("PASS", StringComparison.OrdinalIgnoreCase));
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_StallAfterGreeting_IoTimeoutKeepsTheGreeting()
    {
        await using var server = TestServer.Start(async (c, ct) =>
        {
            await c.WriteAsync("220 ProFTPD 1.3.8 Server ready.\r\n"u8.ToArray(), ct);
            while ((await c.ReadAsync(ct)).Length > 0)
            {
            }
        });

        var result = await new FtpGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
        Assert.Equal("ProFTPD", result.Fragment.Product);
        Assert.Equal("1.3.8", result.Fragment.Version);
        Assert.Equal("220 ProFTPD 1.3.8 Server ready.\r\n", Encoding.Latin1.GetString(result.Fragment.Data.Span));
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Tarpit_IoTimeout()
    {
        var result = await HostilePeers.TarpitAsync(new FtpGrabber());

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
        Assert.Null(result.Fragment.Ftp);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_EndlessMultilineGreeting_ProtocolErrorWithoutReadingItAll()
    {
        (await HostilePeers.EndlessLinesAsync(new FtpGrabber(), "220-welcome\r\n", "220-more of the same\r\n")).AssertStoppedEarly();
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_GreetingLineThatNeverEnds_ProtocolError()
    {
        var result = (await HostilePeers.EndlessLineAsync(new FtpGrabber(), "220 ")).AssertStoppedEarly();

        Assert.Contains("longer than", result.Error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_BinaryGarbage_ProtocolError()
    {
        var (result, _) = await HostilePeers.GarbageAsync(new FtpGrabber());

        Assert.Equal(GrabOutcome.ProtocolError, result.Outcome);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_SlowDrip_StopsAtTheTotalDeadline()
    {
        var result = await HostilePeers.SlowDripAsync(new FtpGrabber(), "220-drip\r\n", TimeSpan.FromMilliseconds(100));

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
        Assert.Contains("deadline", result.Error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_NothingListening_Refused()
    {
        var address = Loopback.NextAddress();
        var port = Loopback.FreeTcpPort(address);

        var result = await new FtpGrabber().GrabAsync(GrabContexts.For(new System.Net.IPEndPoint(address, port)), Ct);

        Assert.Equal(GrabOutcome.Refused, result.Outcome);
        Assert.Equal("ftp", result.Fragment.Module);
    }
}
