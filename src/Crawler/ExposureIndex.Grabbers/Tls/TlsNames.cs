using System.Net.Security;

namespace ExposureIndex.Grabbers.Tls;

/// <summary>Names for TLS code points, as Shodan and OpenSSL print them.</summary>
internal static class TlsNames
{
    /// <summary>"TLSv1.2" etc. (OpenSSL's and Shodan's spelling); unknown versions in hex.</summary>
    public static string Version(ushort version) => version switch
    {
        0x0002 => "SSLv2",
        0x0300 => "SSLv3",
        0x0301 => "TLSv1",
        0x0302 => "TLSv1.1",
        0x0303 => "TLSv1.2",
        0x0304 => "TLSv1.3",
        _ => $"0x{version:x4}",
    };

    /// <summary>The IANA name of a cipher suite (.NET's TlsCipherSuite members are the IANA names); unknown ones in hex.</summary>
    public static string Cipher(ushort suite)
        => Enum.IsDefined((TlsCipherSuite)suite) ? ((TlsCipherSuite)suite).ToString() : $"0x{suite:x4}";

    /// <summary>Secret key bits of the bulk cipher named in an IANA cipher suite name (OpenSSL's strength bits); 0 when unknown.</summary>
    public static int CipherBits(string ianaName)
    {
        ArgumentNullException.ThrowIfNull(ianaName);
        var name = ianaName.ToUpperInvariant();
        if (name.Contains("WITH_NULL", StringComparison.Ordinal) || name.EndsWith("_NULL_SHA", StringComparison.Ordinal))
        {
            return 0;
        }

        if (name.Contains("CHACHA20", StringComparison.Ordinal) || name.Contains("_256", StringComparison.Ordinal))
        {
            return 256;
        }

        if (name.Contains("3DES", StringComparison.Ordinal))
        {
            return 112;
        }

        if (name.Contains("_128", StringComparison.Ordinal) || name.Contains("SM4", StringComparison.Ordinal) || name.Contains("SEED", StringComparison.Ordinal) || name.Contains("IDEA", StringComparison.Ordinal))
        {
            return 128;
        }

        if (name.Contains("DES40", StringComparison.Ordinal) || name.Contains("EXPORT", StringComparison.Ordinal))
        {
            return 40;
        }

        return name.Contains("_DES_", StringComparison.Ordinal) ? 56 : 0;
    }

    /// <summary>Alert descriptions (RFC 8446 §6) for error messages.</summary>
    public static string Alert(byte description) => description switch
    {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        40 => "handshake_failure",
        42 => "bad_certificate",
        47 => "illegal_parameter",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        120 => "no_application_protocol",
        _ => $"alert {description}",
    };
}
