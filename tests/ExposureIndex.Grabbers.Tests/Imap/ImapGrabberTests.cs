using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Imap;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Imap;

public sealed class ImapGrabberTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_ScriptedServer_CapabilityIdLogoutAndNoLogin()
    {
        await using var server = TestServer.Scripted("* OK [CAPABILITY IMAP4rev1 ID] Dovecot ready.\r\n"u8.ToArray(), command => command switch
        {
            "a001 CAPABILITY" => "* CAPABILITY IMAP4rev1 ID STARTTLS AUTH=PLAIN\r\na001 OK done\r\n"u8.ToArray(),
            "a002 ID NIL" => "* ID (\"name\" \"Dovecot\" \"version\" \"2.3.19.1\")\r\na002 OK ID completed.\r\n"u8.ToArray(),
            "a003 LOGOUT" => "* BYE Logging out\r\na003 OK Logout completed.\r\n"u8.ToArray(),
            _ => "* BAD unexpected\r\n"u8.ToArray(),
        });

        var result = await new ImapGrabber().GrabAsync(server.Context(), Ct);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.Equal("Dovecot", result.Fragment.Product);
        Assert.Equal("2.3.19.1", result.Fragment.Version);
        Assert.Equal(["PLAIN"], result.Fragment.Imap.AuthMechanisms);
        Assert.Equal(["a001 CAPABILITY", "a002 ID NIL", "a003 LOGOUT"], await server.WaitForLinesAsync(3));
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_Tarpit_IoTimeout()
    {
        Assert.Equal(GrabOutcome.IoTimeout, (await HostilePeers.TarpitAsync(new ImapGrabber())).Outcome);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_EndlessUntaggedResponses_ProtocolError()
    {
        var result = (await HostilePeers.EndlessLinesAsync(new ImapGrabber(), "* OK hi\r\n", "* OK again\r\n")).AssertStoppedEarly();

        Assert.Equal("OK", result.Fragment.Imap.GreetingStatus);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_LineThatNeverEnds_ProtocolError()
    {
        (await HostilePeers.EndlessLineAsync(new ImapGrabber(), "* OK ")).AssertStoppedEarly();
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_BinaryGarbage_ProtocolError()
    {
        Assert.Equal(GrabOutcome.ProtocolError, (await HostilePeers.GarbageAsync(new ImapGrabber())).Result.Outcome);
    }

    [Fact(Timeout = 30_000)]
    public async Task GrabAsync_ImplicitTlsAgainstGarbage_HandshakeError()
    {
        await using var server = TestServer.Start(async (c, ct) =>
        {
            await c.ReadAsync(ct);
            await c.WriteAsync("* OK this is not TLS at all\r\n"u8.ToArray(), ct);
            await c.ReadAsync(ct);
        });
        var result = await new ImapGrabber().GrabAsync(server.Context(tls: true), Ct);

        Assert.Equal(GrabOutcome.HandshakeError, result.Outcome);
        Assert.Null(result.Fragment.Imap);
    }
}
