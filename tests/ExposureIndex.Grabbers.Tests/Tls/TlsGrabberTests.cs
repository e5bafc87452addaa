using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Tests.Support;
using ExposureIndex.Grabbers.Tls;

namespace ExposureIndex.Grabbers.Tests.Tls;

public sealed class TlsGrabberTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A TLS server (SslStream, server side) behind an optional STARTTLS dialogue.</summary>
    private static Func<NetworkStream, CancellationToken, Task> TlsServer(X509Certificate2 certificate, StartTlsProtocol mode = StartTlsProtocol.None, bool offerStartTls = true)
        => async (stream, ct) =>
        {
            if (!await PlaintextDialogueAsync(stream, mode, offerStartTls, ct))
            {
                return;
            }

            await using var ssl = new SslStream(stream, leaveInnerStreamOpen: true);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            await ssl.AuthenticateAsServerAsync(
                new SslServerAuthenticationOptions
                {
                    ServerCertificate = certificate,
                    ApplicationProtocols = [SslApplicationProtocol.Http11],
                },
                timeout.Token);
            // Hold the session until the grabber hangs up.
            await ssl.ReadAtLeastAsync(new byte[1], 1, throwOnEndOfStream: false, timeout.Token);
        };

    private static async Task<bool> PlaintextDialogueAsync(NetworkStream stream, StartTlsProtocol mode, bool offerStartTls, CancellationToken ct)
    {
        async Task Say(string text) => await stream.WriteAsync(Encoding.ASCII.GetBytes(text), ct);
        async Task<string> Hear() => Encoding.ASCII.GetString(await stream.ReadUntilAsync("\r\n"u8.ToArray(), ct)).TrimEnd();

        switch (mode)
        {
            case StartTlsProtocol.Smtp:
                await Say("220 mail.test ESMTP ready\r\n");
                Assert.Equal("EHLO " + StartTls.EhloName, await Hear());
                await Say("250-mail.test\r\n250-PIPELINING\r\n" + (offerStartTls ? "250-STARTTLS\r\n" : string.Empty) + "250 8BITMIME\r\n");
                if (!offerStartTls)
                {
                    await Hear();
                    return false;
                }

                Assert.Equal("STARTTLS", await Hear());
                await Say("220 2.0.0 Ready to start TLS\r\n");
                return true;
            case StartTlsProtocol.Imap:
                await Say("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n");
                Assert.Equal("a001 STARTTLS", await Hear());
                await Say("* NOTE untagged chatter first\r\na001 OK Begin TLS negotiation now\r\n");
                return true;
            case StartTlsProtocol.Pop3:
                await Say("+OK POP3 ready\r\n");
                Assert.Equal("STLS", await Hear());
                await Say("+OK Begin TLS negotiation\r\n");
                return true;
            case StartTlsProtocol.Ftp:
                await Say("220-Welcome\r\n220 FTP ready\r\n");
                Assert.Equal("AUTH TLS", await Hear());
                await Say("234 AUTH TLS OK.\r\n");
                return true;
            default:
                return true;
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_SelfSignedExpiredServer_TagsChainVersionsJa3s()
    {
        var now = DateTimeOffset.UtcNow;
        using var certificate = TestCertificates.SelfSigned("expired.test", now.AddYears(-2), now.AddYears(-1), rsa: true);
        await using var server = TestServer.OnStream(TlsServer(certificate));

        var result = await new TlsGrabber().GrabAsync(server.Context(GrabContexts.Roomy, tls: true), Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}");
        var ssl = result.Fragment.Ssl;
        var leaf = Assert.Single(ssl.Chain);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(certificate.RawData)), leaf.Sha256);
        Assert.Equal("expired.test", leaf.Subject.CommonName);
        Assert.True(leaf.SelfSigned);
        Assert.True(leaf.Expired);
        Assert.Contains("self-signed", result.Fragment.Tags);
        Assert.Contains("expired-cert", result.Fragment.Tags);
        Assert.DoesNotContain("starttls", result.Fragment.Tags);
        Assert.Equal("TLSv1.3", ssl.Version);
        Assert.Equal("http/1.1", ssl.Alpn);
        Assert.Matches("^[0-9a-f]{32}$", ssl.Ja3S);
        Assert.Contains("TLSv1.3", ssl.Versions);
        Assert.Contains("TLSv1.2", ssl.Versions);
        Assert.Equal(4, ssl.Versions.Count);
        Assert.Equal(string.Empty, result.Fragment.Module);
    }

    [Theory(Timeout = 60_000)]
    [InlineData((int)StartTlsProtocol.Smtp, "smtp")]
    [InlineData((int)StartTlsProtocol.Imap, "imap")]
    [InlineData((int)StartTlsProtocol.Pop3, "pop3")]
    [InlineData((int)StartTlsProtocol.Ftp, "ftp")]
    public async Task GrabAsync_StartTlsServer_NegotiatesThenCapturesTls(int modeValue, string service)
    {
        var mode = (StartTlsProtocol)modeValue;
        var now = DateTimeOffset.UtcNow;
        using var certificate = TestCertificates.SelfSigned($"{service}.test", now.AddDays(-1), now.AddDays(30));
        await using var server = TestServer.OnStream(TlsServer(certificate, mode));

        var result = await new TlsGrabber().GrabAsync(server.Context(GrabContexts.Roomy, service: service), Ct);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}");
        Assert.True(result.Fragment.Ssl.Starttls);
        Assert.Contains("starttls", result.Fragment.Tags);
        Assert.Contains("self-signed", result.Fragment.Tags);
        Assert.Equal($"{service}.test", Assert.Single(result.Fragment.Ssl.Chain).Subject.CommonName);
        Assert.Equal("TLSv1.3", result.Fragment.Ssl.Version);
        Assert.Contains("TLSv1.2", result.Fragment.Ssl.Versions);
        // ALPN is for HTTP; a STARTTLS upgrade does not offer it.
        Assert.Equal(string.Empty, result.Fragment.Ssl.Alpn);
        // One connection for the raw hello, one for the handshake, and the version probes not already answered.
        Assert.InRange(server.Accepted, 5, 6);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_SmtpWithoutStartTls_ProtocolError()
    {
        using var certificate = TestCertificates.SelfSigned("plain.test", DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        await using var server = TestServer.OnStream(TlsServer(certificate, StartTlsProtocol.Smtp, offerStartTls: false));

        var result = await new TlsGrabber().GrabAsync(server.Context(GrabContexts.Roomy, service: "smtp"), Ct);

        Assert.Equal(GrabOutcome.ProtocolError, result.Outcome);
        Assert.Contains("does not offer STARTTLS", result.Error, StringComparison.Ordinal);
        Assert.Contains("starttls", result.Fragment.Tags);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_RandomBytes_HandshakeErrorOnFirstConnection()
    {
        await using var server = TestServer.OnStream(async (stream, ct) =>
        {
            await stream.ReadUntilAsync([0x01], ct);
            await stream.WriteAsync(ProtocolFixtures.Read("Tls", "garbage-random.bin"), ct);
            await stream.ReadAtLeastAsync(new byte[1], 1, throwOnEndOfStream: false, ct);
        });

        var result = await new TlsGrabber().GrabAsync(server.Context(tls: true), Ct);

        Assert.Equal(GrabOutcome.HandshakeError, result.Outcome);
        Assert.Contains("not a TLS record", result.Error, StringComparison.Ordinal);
        Assert.Equal(1, server.Accepted);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_EndlessAlerts_HandshakeErrorAllVersionsRefused()
    {
        await using var server = TestServer.OnStream(async (stream, ct) =>
        {
            await stream.ReadUntilAsync([0x01], ct);
            byte[] alert = [21, 3, 3, 0, 2, 2, 40];
            for (var i = 0; i < 100_000; i++)
            {
                await stream.WriteAsync(alert, ct);
            }
        });

        var result = await new TlsGrabber().GrabAsync(server.Context(tls: true), Ct);

        Assert.Equal(GrabOutcome.HandshakeError, result.Outcome);
        Assert.Contains("handshake_failure", result.Error, StringComparison.Ordinal);
        Assert.Equal(["-TLSv1", "-TLSv1.1", "-TLSv1.2", "-TLSv1.3"], result.Fragment.Ssl.Versions);
        Assert.Empty(result.Fragment.Ssl.Chain);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_StallMidServerHello_IoTimeout()
    {
        var partial = ProtocolFixtures.Read("Tls", "nginx-tls13-reply.bin")[..30];
        await using var server = TestServer.OnStream(async (stream, ct) =>
        {
            await stream.ReadUntilAsync([0x01], ct);
            await stream.WriteAsync(partial, ct);
            await Task.Delay(Timeout.Infinite, ct);
        });

        var result = await new TlsGrabber().GrabAsync(server.Context(tls: true), Ct);

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
        Assert.Contains("stalled after 30 bytes", result.Error, StringComparison.Ordinal);
        Assert.Equal(1, server.Accepted);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_Tarpit_IoTimeout()
    {
        await using var server = TestServer.OnStream(async (stream, ct) => await Task.Delay(Timeout.Infinite, ct));

        var result = await new TlsGrabber().GrabAsync(server.Context(tls: true), Ct);

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
        Assert.Contains("no answer to our ClientHello", result.Error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task GrabAsync_SmtpTarpitAfterGreeting_IoTimeoutNamingStep()
    {
        await using var server = TestServer.OnStream(async (stream, ct) =>
        {
            await stream.WriteAsync("220 slow ESMTP\r\n"u8.ToArray(), ct);
            await Task.Delay(Timeout.Infinite, ct);
        });

        var result = await new TlsGrabber().GrabAsync(server.Context(service: "smtp"), Ct);

        Assert.Equal(GrabOutcome.IoTimeout, result.Outcome);
    }
}
