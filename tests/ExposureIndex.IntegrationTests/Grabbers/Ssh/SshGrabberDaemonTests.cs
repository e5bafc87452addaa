using System.Security.Cryptography;
using System.Text;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Ssh;
using ExposureIndex.TestCommon;
using ExposureIndex.TestCommon.Daemons;

namespace ExposureIndex.IntegrationTests.Grabbers.Ssh;

public sealed class SshGrabberDaemonTests
{
    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_OpenSsh_ProductVersionAndHostKeyMatchSshKeygen()
    {
        await using var sshd = await OpenSshDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var result = await GrabRun.GrabAsync(new SshGrabber(), sshd);

        Assert.True(result.Outcome == GrabOutcome.Success, $"{result.Outcome}: {result.Error}\n{sshd.LogTail()}");
        Assert.Null(result.Error);
        var record = result.Fragment;
        Assert.Equal("ssh", record.Module);
        GrabRun.AssertExactVersion(record, sshd, "openbsd", "openssh");
        Assert.Equal("protocol 2.0", record.Info);
        Assert.Equal("Debian", record.Os);
        Assert.StartsWith($"SSH-2.0-OpenSSH_{sshd.Version}", record.Ssh.Banner, StringComparison.Ordinal);

        var pub = Path.Combine(sshd.TempDirectory, "ssh_host_ed25519_key.pub");
        Assert.Equal("ssh-ed25519", record.Ssh.Type);
        Assert.Equal(sshd.HostPublicKeys["ed25519"].Split(' ')[1], Convert.ToBase64String(record.Ssh.Key.Span));
        Assert.Equal(await KeygenFingerprintAsync(pub, "sha256"), record.Ssh.FingerprintSha256);
        Assert.Equal(await KeygenFingerprintAsync(pub, "md5"), "MD5:" + record.Ssh.Fingerprint);

        var data = Encoding.UTF8.GetString(record.Data.Span);
        Assert.StartsWith(record.Ssh.Banner + "\nKey type: ssh-ed25519\n", data, StringComparison.Ordinal);
        Assert.Contains("Fingerprint: " + record.Ssh.Fingerprint, data, StringComparison.Ordinal);
        Assert.Contains("\nKex Algorithms:\n\t", data, StringComparison.Ordinal);
    }

    [Fact(Timeout = GrabRun.TestTimeoutMs)]
    public async Task GrabAsync_OpenSsh_KexListsMatchSshdConfigAndHasshMatchesIndependentMd5()
    {
        await using var sshd = await OpenSshDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var result = await GrabRun.GrabAsync(new SshGrabber(), sshd);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        var kex = result.Fragment.Ssh.Kex;
        // sshd -T prints the effective algorithm lists in the order sshd offers them.
        var effective = await SshdEffectiveConfigAsync(sshd);
        Assert.Equal(effective["ciphers"], string.Join(',', kex.EncryptionAlgorithms));
        Assert.Equal(effective["macs"], string.Join(',', kex.MacAlgorithms));
        // The KEXINIT's kex list is the configured one plus markers sshd appends (ext-info-s, kex-strict-s-v00@openssh.com).
        Assert.StartsWith(effective["kexalgorithms"], string.Join(',', kex.KexAlgorithms), StringComparison.Ordinal);
        Assert.Contains("none", kex.CompressionAlgorithms);

        // HASSH (server): MD5 of "kex;enc;mac;cmp" with the server-to-client lists, computed here on its own.
        var hasshInput = $"{string.Join(',', kex.KexAlgorithms)};{string.Join(',', kex.EncryptionAlgorithms)};{string.Join(',', kex.MacAlgorithms)};{string.Join(',', kex.CompressionAlgorithms)}";
#pragma warning disable CA5351 // HASSH is MD5 by definition.
        var expected = Convert.ToHexStringLower(MD5.HashData(Encoding.ASCII.GetBytes(hasshInput)));
#pragma warning restore CA5351
        Assert.Equal(expected, result.Fragment.Ssh.Hassh);
    }

    [Theory(Timeout = GrabRun.TestTimeoutMs)]
    [InlineData("curve25519-sha256")]
    [InlineData("curve25519-sha256@libssh.org")]
    [InlineData("ecdh-sha2-nistp256")]
    [InlineData("ecdh-sha2-nistp384")]
    [InlineData("ecdh-sha2-nistp521")]
    [InlineData("diffie-hellman-group14-sha256")]
    public async Task GrabAsync_EachKexMethod_OpenSshSendsItsHostKey(string kexMethod)
    {
        await using var sshd = await OpenSshDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var result = await GrabRun.GrabAsync(new SshGrabber(null, [kexMethod]), GrabRun.Context(sshd.EndPoint));

        Assert.True(result.Outcome == GrabOutcome.Success && result.Error is null, $"{kexMethod}: {result.Outcome} {result.Error}\n{sshd.LogTail()}");
        Assert.Equal(await KeygenFingerprintAsync(Path.Combine(sshd.TempDirectory, "ssh_host_ed25519_key.pub"), "sha256"), result.Fragment.Ssh.FingerprintSha256);
    }

    [Theory(Timeout = GrabRun.TestTimeoutMs)]
    [InlineData("rsa-sha2-512", "rsa", "ssh-rsa")]
    [InlineData("ecdsa-sha2-nistp256", "ecdsa", "ecdsa-sha2-nistp256")]
    public async Task GrabAsync_PreferredHostKeyAlgorithm_ThatKeyMatchesSshKeygen(string algorithm, string keyFile, string keyType)
    {
        await using var sshd = await OpenSshDaemon.StartAsync(cancellationToken: GrabRun.Ct);

        var result = await GrabRun.GrabAsync(new SshGrabber([algorithm]), sshd);

        Assert.Equal(GrabOutcome.Success, result.Outcome);
        Assert.Equal(keyType, result.Fragment.Ssh.Type);
        var pub = Path.Combine(sshd.TempDirectory, $"ssh_host_{keyFile}_key.pub");
        Assert.Equal(await KeygenFingerprintAsync(pub, "sha256"), result.Fragment.Ssh.FingerprintSha256);
        Assert.Equal(await KeygenFingerprintAsync(pub, "md5"), "MD5:" + result.Fragment.Ssh.Fingerprint);
    }

    /// <summary>The fingerprint field of `ssh-keygen -E hash -lf file` ("256 SHA256:... comment (ED25519)").</summary>
    private static async Task<string> KeygenFingerprintAsync(string publicKeyFile, string hash)
    {
        var keygen = Requires.Executable("ssh-keygen", "openssh-client");
        var output = (await Tool.RunAsync(new DaemonCommand(keygen, ["-E", hash, "-lf", publicKeyFile]), TimeSpan.FromSeconds(20), cancellationToken: GrabRun.Ct)).EnsureSuccess().StandardOutput;
        return output.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
    }

    private static async Task<Dictionary<string, string>> SshdEffectiveConfigAsync(OpenSshDaemon sshd)
    {
        var output = (await Tool.RunAsync(new DaemonCommand(sshd.Identity.Executable, ["-T", "-f", Path.Combine(sshd.TempDirectory, "sshd_config")]), TimeSpan.FromSeconds(20), cancellationToken: GrabRun.Ct))
            .EnsureSuccess().StandardOutput;
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', 2))
            .Where(p => p.Length == 2)
            .GroupBy(p => p[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First()[1].Trim(), StringComparer.Ordinal);
    }
}
