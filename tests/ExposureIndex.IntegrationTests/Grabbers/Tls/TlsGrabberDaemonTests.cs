using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.TestCommon;
using ExposureIndex.TestCommon.Daemons;
using TlsGrabberType = ExposureIndex.Grabbers.Tls.TlsGrabber;

namespace ExposureIndex.IntegrationTests.Grabbers.Tls;

public sealed class TlsGrabberDaemonTests
{
    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_NginxTls_ChainMatchesOpenSslX509()
    {
        await using var nginx = await NginxTlsDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var record = await GrabRun.SucceedsAsync(new TlsGrabberType(), nginx, GrabRun.Context(nginx.EndPoint, tls: true, service: "https"));

        var ssl = record.Ssl;
        Assert.Equal(2, ssl.Chain.Count);
        var leaf = ssl.Chain[0];
        var x509 = await OpenSslAsync("x509", "-in", nginx.LeafCertificatePath, "-noout", "-serial", "-fingerprint", "-sha256", "-subject", "-issuer", "-startdate", "-enddate", "-nameopt", "RFC2253");
        Assert.Equal(Field(x509, "serial").ToLowerInvariant(), leaf.Serial);
        Assert.Equal(nginx.LeafSerialHex, leaf.Serial);
        Assert.Equal(Hex(Field(x509, "sha256 Fingerprint")), leaf.Sha256);
        Assert.Equal(Hex(Field(await OpenSslAsync("x509", "-in", nginx.LeafCertificatePath, "-noout", "-fingerprint", "-sha1"), "sha1 Fingerprint")), leaf.Sha1);
        Assert.Equal(Field(x509, "subject"), leaf.Subject.Raw);
        Assert.Equal(Field(x509, "issuer"), leaf.Issuer.Raw);
        Assert.Equal(NginxTlsDaemon.ServerName, leaf.Subject.CommonName);
        Assert.Equal("ExposureIndex Tests", leaf.Subject.Organization);
        Assert.Equal("Grabbers", leaf.Subject.OrganizationalUnit);
        Assert.Equal("DE", leaf.Subject.Country);
        Assert.Equal("ExposureIndex Test CA", leaf.Issuer.CommonName);
        Assert.Equal(OpenSslDate(Field(x509, "notBefore")), leaf.NotBefore.ToDateTimeOffset());
        Assert.Equal(OpenSslDate(Field(x509, "notAfter")), leaf.NotAfter.ToDateTimeOffset());
        Assert.False(leaf.Expired);
        Assert.False(leaf.SelfSigned);
        Assert.Equal(3, leaf.Version);
        Assert.Equal([NginxTlsDaemon.ServerName, "localhost", nginx.Address.ToString()], leaf.SubjectAltNames);

        var text = await OpenSslAsync("x509", "-in", nginx.LeafCertificatePath, "-noout", "-text");
        Assert.Contains($"Signature Algorithm: {leaf.SignatureAlgorithm}", text, StringComparison.Ordinal);
        Assert.Equal("ec", leaf.PublicKeyType);
        Assert.Contains($"Public-Key: ({leaf.PublicKeyBits} bit)", text, StringComparison.Ordinal);
        Assert.Equal(256, leaf.PublicKeyBits);

        var ca = ssl.Chain[1];
        Assert.Equal(Hex(Field(await OpenSslAsync("x509", "-in", nginx.CaCertificatePath, "-noout", "-fingerprint", "-sha256"), "sha256 Fingerprint")), ca.Sha256);
        Assert.True(ca.SelfSigned);
        Assert.Equal("rsa", ca.PublicKeyType);
        Assert.Equal(2048, ca.PublicKeyBits);

        Assert.DoesNotContain("self-signed", record.Tags);
        Assert.DoesNotContain("expired-cert", record.Tags);
        Assert.DoesNotContain("starttls", record.Tags);
        Assert.False(ssl.Starttls);
    }

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_NginxTls_VersionsCipherAlpnAndJa3sMatchOpenSslClient()
    {
        await using var nginx = await NginxTlsDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var result = await GrabRun.GrabAsync(new TlsGrabberType(), GrabRun.Context(nginx.EndPoint, tls: true));

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}");
        var ssl = result.Fragment.Ssl;
        Assert.Equal(["-TLSv1", "-TLSv1.1", "TLSv1.2", "TLSv1.3"], ssl.Versions);
        Assert.Equal("TLSv1.3", ssl.Version);
        Assert.StartsWith("TLS_", ssl.Cipher, StringComparison.Ordinal);
        Assert.Contains(ssl.CipherBits, new[] { 128, 256 });
        Assert.Equal("http/1.1", ssl.Alpn);

        // Our first ClientHello prefers TLS_AES_128_GCM_SHA256; make openssl s_client ask the same, capture the
        // ServerHello it sees (-msg) and compute JA3S here from those bytes.
        var sClient = await OpenSslAsync("s_client", "-connect", $"{nginx.Address}:{nginx.Port}", "-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-msg");
        var serverHello = MessageBytes(sClient, "ServerHello");
        Assert.Equal(Ja3sOf(serverHello), ssl.Ja3S);
    }

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_PlainHttpNginx_HandshakeErrorNamesPlaintext()
    {
        await using var nginx = await NginxDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var result = await GrabRun.GrabAsync(new TlsGrabberType(), GrabRun.Context(nginx.EndPoint, tls: true));

        // nginx answers a ClientHello on a plain port with "400 Bad Request" in plaintext.
        Assert.Equal(GrabOutcome.HandshakeError, result.Outcome);
        Assert.Contains("plaintext", result.Error, StringComparison.Ordinal);
    }

    private static async Task<string> OpenSslAsync(params string[] args)
    {
        var openssl = Requires.Executable("openssl", "openssl");
        var run = await Tool.RunAsync(new DaemonCommand(openssl, args), TimeSpan.FromSeconds(30), cancellationToken: GrabRun.Ct);
        return args[0] == "s_client" ? run.StandardOutput : run.EnsureSuccess().StandardOutput;
    }

    private static string Field(string output, string name)
        => output.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith(name + "=", StringComparison.OrdinalIgnoreCase))[(name.Length + 1)..].Trim();

    private static string Hex(string colonHex) => colonHex.Replace(":", string.Empty, StringComparison.Ordinal).ToLowerInvariant();

    private static DateTimeOffset OpenSslDate(string text)
        => DateTimeOffset.ParseExact(string.Join(' ', text.Split(' ', StringSplitOptions.RemoveEmptyEntries)), "MMM d HH:mm:ss yyyy 'GMT'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    /// <summary>The hex dump s_client -msg prints under "&lt;&lt;&lt; TLS 1.3, Handshake [length ...], NAME".</summary>
    private static byte[] MessageBytes(string output, string name)
    {
        var lines = output.Split('\n');
        var start = Array.FindIndex(lines, l => l.StartsWith("<<<", StringComparison.Ordinal) && l.TrimEnd().EndsWith(", " + name, StringComparison.Ordinal));
        Assert.True(start >= 0, $"s_client printed no {name}:\n{output}");
        var hex = new StringBuilder();
        for (var i = start + 1; i < lines.Length && lines[i].StartsWith(' '); i++)
        {
            hex.Append(lines[i].Replace(" ", string.Empty, StringComparison.Ordinal).Trim());
        }

        return Convert.FromHexString(hex.ToString());
    }

    /// <summary>JA3S from a raw ServerHello handshake message, written independently of the grabber's parser.</summary>
    private static string Ja3sOf(byte[] message)
    {
        Assert.Equal(2, message[0]);
        var at = 4;
        var version = (message[at] << 8) | message[at + 1];
        at += 2 + 32;
        at += 1 + message[at];
        var cipher = (message[at] << 8) | message[at + 1];
        at += 3;
        var end = at + 2 + ((message[at] << 8) | message[at + 1]);
        at += 2;
        var extensions = new List<int>();
        while (at < end)
        {
            extensions.Add((message[at] << 8) | message[at + 1]);
            at += 4 + ((message[at + 2] << 8) | message[at + 3]);
        }

        var text = string.Create(CultureInfo.InvariantCulture, $"{version},{cipher},{string.Join('-', extensions)}");
#pragma warning disable CA5351 // JA3S is MD5 by definition.
        return Convert.ToHexStringLower(MD5.HashData(Encoding.ASCII.GetBytes(text)));
#pragma warning restore CA5351
    }
}
