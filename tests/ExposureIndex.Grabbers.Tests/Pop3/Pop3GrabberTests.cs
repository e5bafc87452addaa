using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Pop3;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Pop3;

public sealed class Pop3GrabberTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_ScriptedServer_CapaQuitAndNoCredentials()
    {
        await using var server = TestServer.Scripted("+OK Dovecot ready.\r\n"u8.ToArray(), command => command switch
        {
            "CAPA" => "+OK\r\nSTLS\r\nSASL PLAIN\r\n.\r\n"u8.ToArray(),
            "QUIT" => "+OK Logging out\r\n"u8.ToArray(),
            _ => "-ERR unexpected\r\n"u8.ToArray(),
        });

        var result = await new Pop3Grabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.Equal("Dovecot", result.Fragment.Product);
        Assert.Equal(["PLAIN"], result.Fragment.Pop3.SaslMechanisms);
        Assert.Equal(["CAPA", "QUIT"], await server.WaitForLinesAsync(2));
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Tarpit_IoTimeout()
    {
        Assert.Equal(GrabOutcome.IoTimeout, (await HostilePeers.TarpitAsync(new Pop3Grabber())).Outcome);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_EndlessCapaList_ProtocolError()
    {
        var result = (await HostilePeers.EndlessLinesAsync(new Pop3Grabber(), "+OK hello\r\n+OK\r\n", "X-MORE\r\n")).AssertStoppedEarly();

        Assert.True(result.Fragment.Pop3.GreetingOk);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_LineThatNeverEnds_ProtocolError()
    {
        (await HostilePeers.EndlessLineAsync(new Pop3Grabber(), "+OK ")).AssertStoppedEarly();
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_BinaryGarbage_ProtocolError()
    {
        Assert.Equal(GrabOutcome.ProtocolError, (await HostilePeers.GarbageAsync(new Pop3Grabber())).Result.Outcome);
    }
}
