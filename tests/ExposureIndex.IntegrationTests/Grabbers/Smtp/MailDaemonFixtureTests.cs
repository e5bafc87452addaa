using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ExposureIndex.IntegrationTests.Daemons;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Smtp;

/// <summary>
/// Self-tests of the mail fixtures (PostfixDaemon, DovecotDaemon): they start, bind only their address, really
/// upgrade with STARTTLS / STLS to their self-signed certificate (the TLS grabber relies on that), and stop cleanly.
/// </summary>
public sealed class MailDaemonFixtureTests
{
    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task PostfixDaemon_Starttls_HandshakesWithItsCertificate()
    {
        var postfix = await PostfixDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);
        try
        {
            var certificate = await StartTlsAsync(postfix.EndPoint, ["EHLO fixture.invalid", "STARTTLS"], okPrefix: "220 ", replyEnd: IsNumericReplyEnd);

            Assert.Equal("CN=" + PostfixDaemon.HostName, certificate.Subject);
            Assert.Equal(PostfixDaemon.HostName, postfix.Certificate!.CommonName);
            await DaemonAssert.BindsOnlyItsAddressAsync(postfix);
        }
        finally
        {
            await DaemonAssert.StopsCleanlyAsync(postfix);
        }
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task PostfixDaemon_RelayAttempt_Refused()
    {
        await using var postfix = await PostfixDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var transcript = await WireProbe.ExchangeTextAsync(
            postfix.EndPoint,
            "HELO fixture.invalid\r\nMAIL FROM:<a@fixture.invalid>\r\nRCPT TO:<someone@example.com>\r\nQUIT\r\n",
            "221 ",
            DaemonAssert.NetTimeout,
            DaemonAssert.Ct);

        Assert.Contains("\r\n554 5.7.1 <someone@example.com>: Recipient address rejected", transcript, StringComparison.Ordinal);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task DovecotDaemon_ImapStarttlsAndPop3Stls_HandshakeWithItsCertificate()
    {
        var dovecot = await DovecotDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);
        try
        {
            var imap = await StartTlsAsync(dovecot.EndPoint, ["a STARTTLS"], okPrefix: "a OK", replyEnd: line => !line.StartsWith('*'), greetingEnd: _ => true);
            var pop3 = await StartTlsAsync(dovecot.Pop3EndPoint, ["STLS"], okPrefix: "+OK", replyEnd: _ => true);

            Assert.Equal("CN=" + DovecotDaemon.HostName, imap.Subject);
            Assert.Equal(imap.Thumbprint, pop3.Thumbprint);
            await DaemonAssert.BindsOnlyItsAddressAsync(dovecot);
        }
        finally
        {
            await DaemonAssert.StopsCleanlyAsync(dovecot);
        }
    }

    private static bool IsNumericReplyEnd(string line) => line.Length < 4 || line[3] != '-';

    /// <summary>Reads the greeting, sends <paramref name="commands"/> (the last one starts TLS), then does the TLS handshake.</summary>
    private static async Task<X509Certificate2> StartTlsAsync(IPEndPoint endPoint, string[] commands, string okPrefix, Func<string, bool> replyEnd, Func<string, bool>? greetingEnd = null)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(DaemonAssert.Ct);
        cts.CancelAfter(DaemonAssert.NetTimeout);
        using var client = new TcpClient(AddressFamily.InterNetwork);
        await client.ConnectAsync(endPoint, cts.Token);
        var stream = client.GetStream();
        var reader = new LineReader(stream);
        var greeting = await reader.ReadReplyAsync(greetingEnd ?? replyEnd, cts.Token);
        Assert.False(string.IsNullOrEmpty(greeting));
        var last = string.Empty;
        foreach (var command in commands)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"), cts.Token);
            last = await reader.ReadReplyAsync(replyEnd, cts.Token);
        }

        Assert.StartsWith(okPrefix, last, StringComparison.Ordinal);
        X509Certificate2? seen = null;
        await using var tls = new SslStream(stream, leaveInnerStreamOpen: false, (_, certificate, _, _) =>
        {
            seen = certificate is null ? null : new X509Certificate2(certificate);
            return true;
        });
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "fixture.invalid" }, cts.Token);
        Assert.True(tls.IsAuthenticated);
        return seen ?? throw new InvalidOperationException("no certificate was presented");
    }

    /// <summary>Reads CRLF lines byte by byte, so nothing past the reply is consumed before the TLS handshake.</summary>
    private sealed class LineReader(NetworkStream stream)
    {
        public async Task<string> ReadReplyAsync(Func<string, bool> isLast, CancellationToken ct)
        {
            for (var lines = 0; lines < 100; lines++)
            {
                var line = await ReadLineAsync(ct);
                if (isLast(line))
                {
                    return line;
                }
            }

            throw new InvalidOperationException("a reply ran past 100 lines");
        }

        private async Task<string> ReadLineAsync(CancellationToken ct)
        {
            var sb = new StringBuilder();
            var one = new byte[1];
            while (sb.Length < 4096)
            {
                if (await stream.ReadAsync(one, ct) == 0)
                {
                    throw new EndOfStreamException("the server closed the connection");
                }

                if (one[0] == '\n')
                {
                    return sb.ToString().TrimEnd('\r');
                }

                sb.Append((char)one[0]);
            }

            throw new InvalidOperationException("a line ran past 4096 bytes");
        }
    }
}
