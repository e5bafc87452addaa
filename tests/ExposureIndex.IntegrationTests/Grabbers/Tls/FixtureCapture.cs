using ExposureIndex.Grabbers;
using ExposureIndex.Grabbers.Http;
using ExposureIndex.Grabbers.Ssh;
using ExposureIndex.TestCommon;
using ExposureIndex.TestCommon.Daemons;
using TlsGrabberType = ExposureIndex.Grabbers.Tls.TlsGrabber;

namespace ExposureIndex.IntegrationTests.Grabbers.Tls;

/// <summary>
/// Re-captures the HTTP, TLS and SSH parser fixtures from the real Debian daemons (run explicitly:
/// dotnet test --filter FullyQualifiedName~FixtureCapture -- xUnit.Explicit=on). Each fixture is what one
/// connection of a real grab received, byte for byte.
/// </summary>
public sealed class FixtureCapture
{
    private static string FixtureDir(string proto)
        => Directory.CreateDirectory(Path.Combine(RepoPaths.Root, "tests", "ExposureIndex.Grabbers.Tests", "Fixtures", proto)).FullName;

    [Fact(Explicit = true, Timeout = GrabRun.TestTimeoutMs)]
    public async Task Capture_HttpFromNginxAndApache_WritesFixtures()
    {
        await using (var nginx = await NginxDaemon.StartAsync(title: "Welcome &amp; hello", cancellationToken: GrabRun.Ct))
        {
            var network = new RecordingNetwork();
            var result = await GrabRun.GrabAsync(new HttpGrabber(), Context(nginx.EndPoint, network));
            Assert.Equal(ExposureIndex.Contracts.V1.GrabOutcome.Success, result.Outcome);
            await File.WriteAllBytesAsync(Path.Combine(FixtureDir("Http"), "nginx-index.bin"), network.Received[0], GrabRun.Ct);
            await File.WriteAllBytesAsync(Path.Combine(FixtureDir("Http"), "nginx-404.bin"), network.Received[1], GrabRun.Ct);
        }

        await using var apache = await ApacheDaemon.StartAsync(cancellationToken: GrabRun.Ct);
        var apacheNetwork = new RecordingNetwork();
        var apacheResult = await GrabRun.GrabAsync(new HttpGrabber(), Context(apache.EndPoint, apacheNetwork));
        Assert.Equal(ExposureIndex.Contracts.V1.GrabOutcome.Success, apacheResult.Outcome);
        await File.WriteAllBytesAsync(Path.Combine(FixtureDir("Http"), "apache-index.bin"), apacheNetwork.Received[0], GrabRun.Ct);
        await File.WriteAllBytesAsync(Path.Combine(FixtureDir("Http"), "apache-404.bin"), apacheNetwork.Received[1], GrabRun.Ct);
    }

    [Fact(Explicit = true, Timeout = GrabRun.TestTimeoutMs)]
    public async Task Capture_TlsFromNginx_WritesFixtures()
    {
        await using var nginx = await NginxTlsDaemon.StartAsync(cancellationToken: GrabRun.Ct);
        var network = new RecordingNetwork();
        var result = await GrabRun.GrabAsync(new TlsGrabberType(), Context(nginx.EndPoint, network, tls: true));
        Assert.Equal(ExposureIndex.Contracts.V1.GrabOutcome.Success, result.Outcome);
        // Connections: 0 = full ClientHello (TLS 1.3 reply), 1 = SslStream, 2 = TLS 1.0 probe, 3 = TLS 1.1, 4 = TLS 1.2.
        await File.WriteAllBytesAsync(Path.Combine(FixtureDir("Tls"), "nginx-tls13-reply.bin"), network.Received[0], GrabRun.Ct);
        await File.WriteAllBytesAsync(Path.Combine(FixtureDir("Tls"), "nginx-tls10-alert.bin"), network.Received[2], GrabRun.Ct);
        await File.WriteAllBytesAsync(Path.Combine(FixtureDir("Tls"), "nginx-tls12-reply.bin"), network.Received[4], GrabRun.Ct);
    }

    [Fact(Explicit = true, Timeout = GrabRun.TestTimeoutMs)]
    public async Task Capture_SshFromOpenSsh_WritesFixtures()
    {
        await using var sshd = await OpenSshDaemon.StartAsync(cancellationToken: GrabRun.Ct);
        var network = new RecordingNetwork();
        var result = await GrabRun.GrabAsync(new SshGrabber(), Context(sshd.EndPoint, network));
        Assert.Equal(ExposureIndex.Contracts.V1.GrabOutcome.Success, result.Outcome);
        await File.WriteAllBytesAsync(Path.Combine(FixtureDir("Ssh"), "openssh-transcript.bin"), network.Received[0], GrabRun.Ct);
        await File.WriteAllTextAsync(Path.Combine(FixtureDir("Ssh"), "openssh-transcript.expected.txt"),
            $"banner={result.Fragment.Ssh.Banner}\ntype={result.Fragment.Ssh.Type}\nsha256={result.Fragment.Ssh.FingerprintSha256}\nmd5={result.Fragment.Ssh.Fingerprint}\nhassh={result.Fragment.Ssh.Hassh}\n", GrabRun.Ct);
    }

    private static GrabContext Context(System.Net.IPEndPoint endPoint, IGrabNetwork network, bool tls = false) => new()
    {
        Target = new GrabTarget(endPoint.Address, endPoint.Port, ExposureIndex.Contracts.V1.Transport.Tcp),
        Limits = GrabRun.Limits,
        Network = network,
        Tls = tls,
    };
}
