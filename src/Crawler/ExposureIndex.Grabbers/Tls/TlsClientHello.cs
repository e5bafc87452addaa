using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace ExposureIndex.Grabbers.Tls;

/// <summary>
/// Builds the raw ClientHello records our probes send (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2): either one offering
/// TLS 1.0 to 1.3 like a modern client (for JA3S and the negotiated parameters), or one offering exactly one
/// version (for ssl.versions). Key shares are real public keys (X25519 and P-256), so a server never refuses us
/// for a malformed share; we never finish the handshake.
/// </summary>
internal static class TlsClientHello
{
    public const ushort Tls10 = 0x0301;
    public const ushort Tls11 = 0x0302;
    public const ushort Tls12 = 0x0303;
    public const ushort Tls13 = 0x0304;

    /// <summary>The versions probed for ssl.versions, oldest first.</summary>
    public static readonly IReadOnlyList<ushort> ProbedVersions = [Tls10, Tls11, Tls12, Tls13];

    private static readonly ushort[] Tls13Suites = [0x1301, 0x1302, 0x1303];

    // ECDHE AEAD first, then CBC, then DHE and static RSA: broad enough that any TLS 1.0-1.2 server finds one.
    private static readonly ushort[] LegacySuites =
    [
        0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc023, 0xc027, 0xc024, 0xc028,
        0xc009, 0xc013, 0xc00a, 0xc014, 0x009e, 0x009f, 0xccaa, 0x0067, 0x006b, 0x0033, 0x0039,
        0x009c, 0x009d, 0x003c, 0x003d, 0x002f, 0x0035, 0xc012, 0x0016, 0x000a,
    ];

    private static readonly ushort[] SignatureSchemes =
    [
        0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b,
        0x0401, 0x0501, 0x0601, 0x0203, 0x0201,
    ];

    private static readonly ushort[] Groups = [0x001d, 0x0017, 0x0018, 0x0019, 0x0100];

    /// <summary>
    /// A ClientHello record. <paramref name="only"/> null offers TLS 1.0-1.3; a version offers exactly that one
    /// (TLS 1.3 through supported_versions, older ones through the legacy version field with no supported_versions).
    /// </summary>
    public static byte[] Build(string? serverName, ushort? only = null, IReadOnlyList<string>? alpn = null)
    {
        var offer13 = only is null or Tls13;
        var offerLegacy = only is null or < Tls13;
        var body = new List<byte>(512);
        var legacyVersion = only is { } v and < Tls13 ? v : Tls12;
        AddU16(body, legacyVersion);
        body.AddRange(RandomNumberGenerator.GetBytes(32));
        // A 32-byte legacy_session_id keeps TLS 1.3 middlebox compatibility mode (RFC 8446 §D.4).
        body.Add(32);
        body.AddRange(RandomNumberGenerator.GetBytes(32));
        var suites = (offer13 ? Tls13Suites : []).Concat(offerLegacy ? LegacySuites : []).ToArray();
        AddU16(body, (ushort)(suites.Length * 2));
        foreach (var suite in suites)
        {
            AddU16(body, suite);
        }

        body.Add(1);
        body.Add(0);

        var extensions = new List<byte>(384);
        if (!string.IsNullOrEmpty(serverName) && !IPAddress.TryParse(serverName, out _))
        {
            // server_name (RFC 6066 §3): one host_name entry.
            var name = Encoding.ASCII.GetBytes(serverName);
            var list = new List<byte>();
            list.Add(0);
            AddU16(list, (ushort)name.Length);
            list.AddRange(name);
            AddExtension(extensions, 0, Prefixed16(list));
        }

        AddExtension(extensions, 11, [1, 0]);
        AddExtension(extensions, 10, Prefixed16(Groups.SelectMany(U16).ToList()));
        AddExtension(extensions, 35, []);
        if (alpn is { Count: > 0 })
        {
            var names = new List<byte>();
            foreach (var protocol in alpn)
            {
                var bytes = Encoding.ASCII.GetBytes(protocol);
                names.Add((byte)bytes.Length);
                names.AddRange(bytes);
            }

            AddExtension(extensions, 16, Prefixed16(names));
        }

        AddExtension(extensions, 22, []);
        AddExtension(extensions, 23, []);
        AddExtension(extensions, 13, Prefixed16(SignatureSchemes.SelectMany(U16).ToList()));
        if (offer13)
        {
            ushort[] versions = only is null ? [Tls13, Tls12, Tls11, Tls10] : [Tls13];
            var list = new List<byte> { (byte)(versions.Length * 2) };
            foreach (var version in versions)
            {
                AddU16(list, version);
            }

            AddExtension(extensions, 43, list);
            AddExtension(extensions, 45, [1, 1]);
            AddExtension(extensions, 51, Prefixed16(KeyShares()));
        }

        if (offerLegacy)
        {
            // renegotiation_info with an empty renegotiated_connection (RFC 5746 §3.4).
            AddExtension(extensions, 0xff01, [0]);
        }

        AddU16(body, (ushort)extensions.Count);
        body.AddRange(extensions);

        // Handshake header: client_hello(1), 24-bit length; then the record header (type 22, version 0x0301).
        var record = new List<byte>(body.Count + 9) { 22, 3, 1 };
        AddU16(record, (ushort)(body.Count + 4));
        record.Add(1);
        record.Add((byte)(body.Count >> 16));
        record.Add((byte)(body.Count >> 8));
        record.Add((byte)body.Count);
        record.AddRange(body);
        return [.. record];
    }

    private static List<byte> KeyShares()
    {
        var shares = new List<byte>();
        AddU16(shares, 0x001d);
        AddU16(shares, 32);
        shares.AddRange(X25519.NewPublicKey());
        using var p256 = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var q = p256.ExportParameters(includePrivateParameters: false).Q;
        AddU16(shares, 0x0017);
        AddU16(shares, 65);
        shares.Add(4);
        shares.AddRange(q.X!);
        shares.AddRange(q.Y!);
        return shares;
    }

    private static void AddExtension(List<byte> extensions, ushort type, IReadOnlyCollection<byte> data)
    {
        AddU16(extensions, type);
        AddU16(extensions, (ushort)data.Count);
        extensions.AddRange(data);
    }

    private static List<byte> Prefixed16(List<byte> data)
    {
        var result = new List<byte>(data.Count + 2);
        AddU16(result, (ushort)data.Count);
        result.AddRange(data);
        return result;
    }

    private static byte[] U16(ushort value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, value);
        return bytes;
    }

    private static void AddU16(List<byte> target, ushort value)
    {
        target.Add((byte)(value >> 8));
        target.Add((byte)value);
    }
}
