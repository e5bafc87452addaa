using System.Net;
using ExposureIndex.Contracts.V1;
using ExposureIndex.TestCommon;
using ExposureIndex.TestCommon.Daemons;
using TlsGrabberType = ExposureIndex.Grabbers.Tls.TlsGrabber;

namespace ExposureIndex.IntegrationTests.Grabbers.Tls;

/// <summary>STARTTLS against the real mail and FTP daemons (Postfix, Dovecot IMAP and POP3, vsftpd AUTH TLS).</summary>
public sealed class StartTlsDaemonTests
{
    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_PostfixSmtp_StartTlsCapturesItsCertificate()
    {
        await using var postfix = await PostfixDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        await AssertStartTlsAsync(postfix.EndPoint, "smtp", postfix.Certificate!, postfix);
    }

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_DovecotImapAndPop3_StartTlsCapturesItsCertificate()
    {
        await using var dovecot = await DovecotDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        await AssertStartTlsAsync(dovecot.EndPoint, "imap", dovecot.Certificate!, dovecot);
        await AssertStartTlsAsync(dovecot.Pop3EndPoint, "pop3", dovecot.Certificate!, dovecot);
    }

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_VsftpdAuthTls_StartTlsCapturesItsCertificate()
    {
        await using var vsftpd = await VsftpdTlsDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        await AssertStartTlsAsync(vsftpd.EndPoint, "ftp", vsftpd.Certificate!, vsftpd);
    }

    private static async Task AssertStartTlsAsync(IPEndPoint endPoint, string service, SelfSignedCertificate certificate, Daemon daemon)
    {
        var result = await GrabRun.GrabAsync(new TlsGrabberType(), GrabRun.Context(endPoint, service: service));

        Assert.True(result.Outcome == GrabOutcome.Success, $"{service}: {result.Outcome}: {result.Error}\n{daemon.LogTail()}");
        var ssl = result.Fragment.Ssl;
        Assert.True(ssl.Starttls);
        Assert.Contains("starttls", result.Fragment.Tags);
        Assert.Contains("self-signed", result.Fragment.Tags);
        var leaf = ssl.Chain[0];
        Assert.Equal(certificate.CommonName, leaf.Subject.CommonName);
        Assert.True(leaf.SelfSigned);
        var openssl = Requires.Executable("openssl", "openssl");
        var fingerprint = (await Tool.RunAsync(new DaemonCommand(openssl, ["x509", "-in", certificate.CertificatePath, "-noout", "-fingerprint", "-sha256"]), TimeSpan.FromSeconds(30), cancellationToken: GrabRun.Ct))
            .EnsureSuccess().StandardOutput.Trim();
        Assert.Equal(fingerprint[(fingerprint.IndexOf('=', StringComparison.Ordinal) + 1)..].Replace(":", string.Empty, StringComparison.Ordinal).ToLowerInvariant(), leaf.Sha256);
        Assert.StartsWith("TLSv1.", ssl.Version, StringComparison.Ordinal);
        Assert.Contains("TLSv1.2", ssl.Versions);
        Assert.Equal(4, ssl.Versions.Count);
        Assert.Matches("^[0-9a-f]{32}$", ssl.Ja3S);
        // The TLS grabber leaves module and product to the protocol's own grabber.
        Assert.Equal(string.Empty, result.Fragment.Module);
        Assert.Equal(string.Empty, result.Fragment.Product);
    }
}
