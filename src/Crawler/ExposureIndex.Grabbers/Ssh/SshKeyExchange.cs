using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using ExposureIndex.Grabbers.Tls;

namespace ExposureIndex.Grabbers.Ssh;

/// <summary>
/// The client half of an SSH key exchange, only as far as making the server send its host key: our KEXINIT and
/// the first key exchange message with a fresh public value. Session keys are never derived, the signature never
/// checked, nothing is authenticated.
/// </summary>
internal static class SshKeyExchange
{
    /// <summary>Key exchange methods we can start, most preferred first.</summary>
    public static readonly IReadOnlyList<string> SupportedKex =
    [
        "curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
        "diffie-hellman-group14-sha256", "diffie-hellman-group14-sha1",
    ];

    /// <summary>Host key algorithms we ask for, most preferred first (Shodan's banners usually show ed25519 or RSA).</summary>
    public static readonly IReadOnlyList<string> DefaultHostKeyPreference =
    [
        "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", "ssh-dss",
    ];

    // RFC 3526 §3: the 2048-bit MODP group (group 14), generator 2.
    private static readonly BigInteger Group14Prime = BigInteger.Parse(
        "0FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF",
        System.Globalization.NumberStyles.HexNumber,
        System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Our identification string (RFC 4253 §4.2), CR LF included.</summary>
    public static readonly byte[] ClientIdentification = Encoding.ASCII.GetBytes("SSH-2.0-ExposureIndex_0.1\r\n");

    /// <summary>The first of our methods (in <paramref name="preference"/> order) that the server offers, or null when we share none.</summary>
    public static string? ChooseKex(SshKexInit server, IReadOnlyList<string>? preference = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        return (preference ?? SupportedKex).FirstOrDefault(k => SupportedKex.Contains(k, StringComparer.Ordinal) && server.KexAlgorithms.Contains(k, StringComparer.Ordinal));
    }

    /// <summary>
    /// Our KEXINIT packet: only <paramref name="kex"/>; host key algorithms in our preference, then whatever else the
    /// server offers; cipher, MAC and compression lists mirror the server's so that negotiation (RFC 4253 §7.1)
    /// always succeeds.
    /// </summary>
    public static byte[] BuildKexInit(SshKexInit server, string kex, IReadOnlyList<string> hostKeyPreference)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(hostKeyPreference);
        var hostKeys = hostKeyPreference.Where(a => server.ServerHostKeyAlgorithms.Contains(a, StringComparer.Ordinal))
            .Concat(server.ServerHostKeyAlgorithms.Where(a => !hostKeyPreference.Contains(a, StringComparer.Ordinal)))
            .ToList();
        var payload = new List<byte>(1024) { 20 };
        payload.AddRange(RandomNumberGenerator.GetBytes(16));
        AddNameList(payload, [kex]);
        AddNameList(payload, hostKeys);
        AddNameList(payload, server.EncryptionClientToServer);
        AddNameList(payload, server.EncryptionServerToClient);
        AddNameList(payload, server.MacClientToServer);
        AddNameList(payload, server.MacServerToClient);
        AddNameList(payload, server.CompressionClientToServer.Count > 0 ? server.CompressionClientToServer : ["none"]);
        AddNameList(payload, server.CompressionServerToClient.Count > 0 ? server.CompressionServerToClient : ["none"]);
        AddNameList(payload, []);
        AddNameList(payload, []);
        payload.Add(0);
        AddUInt32(payload, 0);
        return Packet(payload);
    }

    /// <summary>SSH_MSG_KEX_ECDH_INIT / SSH_MSG_KEXDH_INIT (message 30) with a fresh public value for <paramref name="kex"/>.</summary>
    public static byte[] BuildKexInitMessage(string kex)
    {
        var payload = new List<byte>(300) { 30 };
        switch (kex)
        {
            case "curve25519-sha256" or "curve25519-sha256@libssh.org":
                // RFC 8731 §3: Q_C is the raw 32-byte X25519 public key.
                AddString(payload, X25519.NewPublicKey());
                break;
            case "ecdh-sha2-nistp256" or "ecdh-sha2-nistp384" or "ecdh-sha2-nistp521":
            {
                // RFC 5656 §4: Q_C is the uncompressed point (SEC 1 §2.3.3).
                var curve = kex[^3..] switch
                {
                    "256" => ECCurve.NamedCurves.nistP256,
                    "384" => ECCurve.NamedCurves.nistP384,
                    _ => ECCurve.NamedCurves.nistP521,
                };
                using var ecdh = ECDiffieHellman.Create(curve);
                var q = ecdh.ExportParameters(includePrivateParameters: false).Q;
                AddString(payload, [4, .. q.X!, .. q.Y!]);
                break;
            }

            case "diffie-hellman-group14-sha256" or "diffie-hellman-group14-sha1":
            {
                // RFC 4253 §8: e = g^x mod p with g = 2.
                var x = new BigInteger(RandomNumberGenerator.GetBytes(32), isUnsigned: true);
                var e = BigInteger.ModPow(2, x, Group14Prime);
                AddString(payload, e.ToByteArray(isUnsigned: false, isBigEndian: true));
                break;
            }

            default:
                throw new ArgumentException($"no client implementation for key exchange '{kex}'", nameof(kex));
        }

        return Packet(payload);
    }

    /// <summary>An unencrypted binary packet (RFC 4253 §6): length, padding length, payload, 4+ random padding bytes to a multiple of 8.</summary>
    internal static byte[] Packet(List<byte> payload)
    {
        var padding = 8 - ((payload.Count + 5) % 8);
        if (padding < 4)
        {
            padding += 8;
        }

        var packet = new byte[4 + 1 + payload.Count + padding];
        BinaryPrimitives.WriteUInt32BigEndian(packet, (uint)(1 + payload.Count + padding));
        packet[4] = (byte)padding;
        payload.CopyTo(packet, 5);
        RandomNumberGenerator.Fill(packet.AsSpan(5 + payload.Count));
        return packet;
    }

    private static void AddNameList(List<byte> target, IEnumerable<string> names) => AddString(target, Encoding.ASCII.GetBytes(string.Join(',', names)));

    private static void AddString(List<byte> target, byte[] value)
    {
        AddUInt32(target, (uint)value.Length);
        target.AddRange(value);
    }

    private static void AddUInt32(List<byte> target, uint value)
    {
        target.Add((byte)(value >> 24));
        target.Add((byte)(value >> 16));
        target.Add((byte)(value >> 8));
        target.Add((byte)value);
    }
}
