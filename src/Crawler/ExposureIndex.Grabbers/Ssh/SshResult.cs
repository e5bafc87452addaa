using System.Security.Cryptography;
using System.Text;

namespace ExposureIndex.Grabbers.Ssh;

/// <summary>The name-lists of an SSH_MSG_KEXINIT (RFC 4253 §7.1), in the order sent.</summary>
internal sealed record SshKexInit(
    IReadOnlyList<string> KexAlgorithms,
    IReadOnlyList<string> ServerHostKeyAlgorithms,
    IReadOnlyList<string> EncryptionClientToServer,
    IReadOnlyList<string> EncryptionServerToClient,
    IReadOnlyList<string> MacClientToServer,
    IReadOnlyList<string> MacServerToClient,
    IReadOnlyList<string> CompressionClientToServer,
    IReadOnlyList<string> CompressionServerToClient,
    IReadOnlyList<string> LanguagesClientToServer,
    IReadOnlyList<string> LanguagesServerToClient,
    bool FirstKexPacketFollows)
{
    /// <summary>
    /// HASSH (server) input, per Salesforce's HASSH: "kex;encryption;mac;compression" with the server-to-client lists,
    /// each comma-joined as sent.
    /// </summary>
    public string HasshServerAlgorithms
        => string.Join(';', string.Join(',', KexAlgorithms), string.Join(',', EncryptionServerToClient), string.Join(',', MacServerToClient), string.Join(',', CompressionServerToClient));

    /// <summary>HASSH (server): lower-case hex MD5 of <see cref="HasshServerAlgorithms"/>.</summary>
    public string HasshServer => Md5Hex(Encoding.ASCII.GetBytes(HasshServerAlgorithms));

    public string Canonical()
        => string.Join('|', new[] { KexAlgorithms, ServerHostKeyAlgorithms, EncryptionClientToServer, EncryptionServerToClient, MacClientToServer, MacServerToClient, CompressionClientToServer, CompressionServerToClient, LanguagesClientToServer, LanguagesServerToClient }.Select(l => string.Join(',', l))) + "|" + FirstKexPacketFollows;

#pragma warning disable CA5351 // HASSH and Shodan's key fingerprint are defined as MD5: identifiers, not security controls.
    internal static string Md5Hex(byte[] data) => Convert.ToHexStringLower(MD5.HashData(data));
#pragma warning restore CA5351
}

/// <summary>What an SSH server told us before authentication.</summary>
/// <param name="PreBannerLines">Lines sent before the identification string (RFC 4253 §4.2 allows them).</param>
/// <param name="Banner">The identification string without CR LF ("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3").</param>
/// <param name="KexInit">The server's KEXINIT, when it arrived.</param>
/// <param name="HostKey">The server's host key blob (K_S of the key exchange reply), when it arrived.</param>
/// <param name="HostKeyType">The key type named inside the blob ("ssh-ed25519").</param>
/// <param name="Disconnect">The description of an SSH_MSG_DISCONNECT, if the server hung up on us that way.</param>
internal sealed record SshResult(
    IReadOnlyList<string> PreBannerLines,
    string Banner,
    SshKexInit? KexInit,
    byte[]? HostKey,
    string? HostKeyType,
    string? Disconnect)
{
    /// <summary>Shodan's form: MD5 of the key blob as colon-separated lower-case hex.</summary>
    public string? FingerprintMd5 => HostKey is null ? null : string.Join(':', SshKexInit.Md5Hex(HostKey).Chunk(2).Select(c => new string(c)));

    /// <summary>OpenSSH's form (ssh-keygen -l): "SHA256:" and the unpadded base64 of SHA-256 of the key blob.</summary>
    public string? FingerprintSha256 => HostKey is null ? null : "SHA256:" + Convert.ToBase64String(SHA256.HashData(HostKey)).TrimEnd('=');

    public string Canonical()
        => $"{string.Join("\n", PreBannerLines)}|{Banner}|{KexInit?.Canonical()}|{(HostKey is null ? "-" : Convert.ToHexString(HostKey))}|{HostKeyType}|{Disconnect}";
}
