using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ExposureIndex.Grabbers.Tls;

/// <summary>
/// The server's answer to one ClientHello: either a ServerHello (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3) or an alert
/// (RFC 8446 §6) refusing it.
/// </summary>
/// <param name="IsAlert">True when the server answered with an alert instead of a ServerHello.</param>
/// <param name="AlertLevel">Alert level (1 warning, 2 fatal) when <paramref name="IsAlert"/>.</param>
/// <param name="AlertDescription">Alert description code (40 handshake_failure, 70 protocol_version ...).</param>
/// <param name="LegacyVersion">The ServerHello's version field (0x0303 for TLS 1.2 and 1.3).</param>
/// <param name="Version">The negotiated version: supported_versions when present (TLS 1.3), else the legacy field.</param>
/// <param name="CipherSuite">The chosen cipher suite (IANA code point).</param>
/// <param name="Compression">The chosen compression method.</param>
/// <param name="Extensions">Extension types in the order the server sent them.</param>
/// <param name="Alpn">The protocol the server chose by ALPN, if any.</param>
/// <param name="HelloRetryRequest">True when the ServerHello is a HelloRetryRequest (RFC 8446 §4.1.4).</param>
internal sealed record TlsResult(
    bool IsAlert,
    byte AlertLevel,
    byte AlertDescription,
    ushort LegacyVersion,
    ushort Version,
    ushort CipherSuite,
    byte Compression,
    IReadOnlyList<ushort> Extensions,
    string? Alpn,
    bool HelloRetryRequest)
{
    public static TlsResult Alert(byte level, byte description) => new(true, level, description, 0, 0, 0, 0, [], null, false);

    /// <summary>
    /// JA3S's input (Salesforce's JA3S): "SSLVersion,Cipher,Extensions" in decimal, extensions joined by '-' in the
    /// order sent. GREASE values (RFC 8701) are skipped as JA3 does.
    /// </summary>
    public string Ja3sText => IsAlert
        ? string.Empty
        : string.Create(CultureInfo.InvariantCulture, $"{LegacyVersion},{CipherSuite},{string.Join('-', Extensions.Where(e => !IsGrease(e)).Select(e => e.ToString(CultureInfo.InvariantCulture)))}");

    /// <summary>JA3S: lower-case hex MD5 of <see cref="Ja3sText"/>.</summary>
    public string Ja3s => IsAlert ? string.Empty : Md5Hex(Ja3sText);

    public string Canonical()
        => $"{IsAlert}|{AlertLevel}|{AlertDescription}|{LegacyVersion:x4}|{Version:x4}|{CipherSuite:x4}|{Compression}|{string.Join('-', Extensions)}|{Alpn}|{HelloRetryRequest}";

    /// <summary>GREASE code points are 0x?A?A with both bytes equal (RFC 8701 §2).</summary>
    public static bool IsGrease(ushort value) => (value & 0x0f0f) == 0x0a0a && (value >> 8) == (value & 0xff);

#pragma warning disable CA5351 // JA3S is defined as MD5; it is a fingerprint, not a security control.
    private static string Md5Hex(string text) => Convert.ToHexStringLower(MD5.HashData(Encoding.ASCII.GetBytes(text)));
#pragma warning restore CA5351
}
