using System.Globalization;
using ExposureIndex.TestCommon;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Daemons.Ssh;

public sealed class OpenSshDaemonTests
{
    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_Banner_CarriesTheInstalledVersion()
    {
        await using var sshd = await OpenSshDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var banner = await WireProbe.ReadBannerLineAsync(sshd.EndPoint, DaemonAssert.NetTimeout, DaemonAssert.Ct);

        // RFC 4253 §4.2: SSH-protoversion-softwareversion SP comments. Debian appends "Debian-<package revision>".
        var revision = sshd.PackageVersion[(sshd.PackageVersion.LastIndexOf('-') + 1)..];
        Assert.Equal($"SSH-2.0-OpenSSH_{sshd.Version} Debian-{revision}", banner);
        Assert.Equal("OpenSSH", sshd.Product);
        await DaemonAssert.BindsOnlyItsAddressAsync(sshd);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_Keyscan_ServesTheGeneratedHostKeys()
    {
        var keyscan = Requires.Executable("ssh-keyscan", "openssh-client");
        await using var sshd = await OpenSshDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        var scan = await Tool.RunAsync(
            new DaemonCommand(keyscan, ["-T", "5", "-p", sshd.Port.ToString(CultureInfo.InvariantCulture), "-t", "ed25519,ecdsa,rsa", sshd.Address.ToString()]),
            TimeSpan.FromSeconds(30),
            cancellationToken: DaemonAssert.Ct);

        foreach (var type in OpenSshDaemon.HostKeyTypes)
        {
            // "type base64 comment" in the .pub file; keyscan prints "[host]:port type base64".
            var keyMaterial = string.Join(' ', sshd.HostPublicKeys[type].Split(' ').Take(2));
            Assert.Contains(keyMaterial, scan.StandardOutput, StringComparison.Ordinal);
        }
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task DisposeAsync_AfterStart_PidGoneAndPortClosed()
    {
        var sshd = await OpenSshDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);
        // Leave a pre-auth session child behind: disposal must stop it too.
        _ = await WireProbe.ReadBannerLineAsync(sshd.EndPoint, DaemonAssert.NetTimeout, DaemonAssert.Ct);

        await DaemonAssert.StopsCleanlyAsync(sshd);
    }

    [Fact(Timeout = DaemonAssert.TestTimeoutMs)]
    public async Task StartAsync_TwoAtOnce_EachHasItsOwnAddressAndKeys()
    {
        await using var first = await OpenSshDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);
        await using var second = await OpenSshDaemon.StartAsync(cancellationToken: DaemonAssert.Ct);

        Assert.NotEqual(first.Address, second.Address);
        Assert.NotEqual(first.HostPublicKeys["ed25519"], second.HostPublicKeys["ed25519"]);
        Assert.StartsWith("SSH-2.0-OpenSSH_", await WireProbe.ReadBannerLineAsync(first.EndPoint, DaemonAssert.NetTimeout, DaemonAssert.Ct), StringComparison.Ordinal);
        Assert.StartsWith("SSH-2.0-OpenSSH_", await WireProbe.ReadBannerLineAsync(second.EndPoint, DaemonAssert.NetTimeout, DaemonAssert.Ct), StringComparison.Ordinal);
    }
}
