using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ExposureIndex.Contracts.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExposureIndex.Grabbers.Tls;

/// <summary>Turns X.509 certificates (RFC 5280) into the <c>ssl.chain</c> entries, with Shodan's and OpenSSL's names.</summary>
internal static class TlsCertificates
{
    // Attribute types (RFC 4519 / X.520) and their RFC 4514 short names.
    private static readonly Dictionary<string, string> ShortNames = new(StringComparer.Ordinal)
    {
        ["2.5.4.3"] = "CN",
        ["2.5.4.6"] = "C",
        ["2.5.4.7"] = "L",
        ["2.5.4.8"] = "ST",
        ["2.5.4.9"] = "STREET",
        ["2.5.4.10"] = "O",
        ["2.5.4.11"] = "OU",
        ["0.9.2342.19200300.100.1.25"] = "DC",
        ["0.9.2342.19200300.100.1.1"] = "UID",
        ["1.2.840.113549.1.9.1"] = "emailAddress",
    };

    // Signature algorithms by OID, named as OpenSSL prints them (Shodan's ssl.cert.sig_alg).
    private static readonly Dictionary<string, string> SignatureNames = new(StringComparer.Ordinal)
    {
        ["1.2.840.113549.1.1.4"] = "md5WithRSAEncryption",
        ["1.2.840.113549.1.1.5"] = "sha1WithRSAEncryption",
        ["1.2.840.113549.1.1.10"] = "rsassaPss",
        ["1.2.840.113549.1.1.11"] = "sha256WithRSAEncryption",
        ["1.2.840.113549.1.1.12"] = "sha384WithRSAEncryption",
        ["1.2.840.113549.1.1.13"] = "sha512WithRSAEncryption",
        ["1.2.840.113549.1.1.14"] = "sha224WithRSAEncryption",
        ["1.2.840.10045.4.1"] = "ecdsa-with-SHA1",
        ["1.2.840.10045.4.3.1"] = "ecdsa-with-SHA224",
        ["1.2.840.10045.4.3.2"] = "ecdsa-with-SHA256",
        ["1.2.840.10045.4.3.3"] = "ecdsa-with-SHA384",
        ["1.2.840.10045.4.3.4"] = "ecdsa-with-SHA512",
        ["1.3.101.112"] = "ED25519",
        ["1.3.101.113"] = "ED448",
        ["1.2.840.10040.4.3"] = "dsaWithSHA1",
        ["2.16.840.1.101.3.4.3.2"] = "dsa_with_SHA256",
    };

    /// <summary>One chain entry. <paramref name="now"/> decides <c>expired</c>.</summary>
    public static Certificate Describe(X509Certificate2 certificate, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var der = certificate.RawData;
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        var (keyType, keyBits) = PublicKey(certificate);
        var result = new Certificate
        {
            Subject = Name(certificate.SubjectName),
            Issuer = Name(certificate.IssuerName),
            Serial = Serial(certificate),
            NotBefore = Timestamp.FromDateTimeOffset(new DateTimeOffset(certificate.NotBefore.ToUniversalTime())),
            NotAfter = Timestamp.FromDateTimeOffset(notAfter),
            Expired = now > notAfter,
            SelfSigned = IsSelfSigned(certificate),
            Sha1 = Convert.ToHexStringLower(SHA1.HashData(der)),
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(der)),
            PublicKeyType = keyType,
            PublicKeyBits = keyBits,
            SignatureAlgorithm = SignatureNames.GetValueOrDefault(certificate.SignatureAlgorithm.Value ?? string.Empty, certificate.SignatureAlgorithm.Value ?? string.Empty),
            Version = certificate.Version,
            Der = ByteString.CopyFrom(der),
        };
        result.SubjectAltNames.AddRange(SubjectAltNames(certificate));
        return result;
    }

    /// <summary>
    /// The serial as OpenSSL's <c>-serial</c> prints it (lower-case here): the INTEGER's value in hex, without the
    /// sign-padding zero byte DER adds before a high bit (X.690 §8.3.2).
    /// </summary>
    public static string Serial(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var bytes = certificate.SerialNumberBytes.Span;
        while (bytes.Length > 1 && bytes[0] == 0)
        {
            bytes = bytes[1..];
        }

        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>
    /// Issued by itself: issuer and subject names are equal (RFC 5280 §6.1 "self-issued") and, when both key
    /// identifiers are present, the authority key id names the subject's own key.
    /// </summary>
    public static bool IsSelfSigned(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData))
        {
            return false;
        }

        var ski = certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().FirstOrDefault()?.SubjectKeyIdentifierBytes;
        var aki = certificate.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().FirstOrDefault()?.KeyIdentifier;
        return ski is null || aki is null || ski.Value.Span.SequenceEqual(aki.Value.Span);
    }

    /// <summary>Orders the certificates a server sent into a chain, leaf first, following issuer to subject; strays go last.</summary>
    public static List<X509Certificate2> Order(X509Certificate2 leaf, IEnumerable<X509Certificate2> others)
    {
        ArgumentNullException.ThrowIfNull(leaf);
        var pool = others.Where(c => !c.RawData.AsSpan().SequenceEqual(leaf.RawData)).ToList();
        var chain = new List<X509Certificate2> { leaf };
        var current = leaf;
        while (!IsSelfSigned(current))
        {
            var issuer = pool.FirstOrDefault(c => c.SubjectName.RawData.AsSpan().SequenceEqual(current.IssuerName.RawData));
            if (issuer is null)
            {
                break;
            }

            pool.Remove(issuer);
            chain.Add(issuer);
            current = issuer;
        }

        chain.AddRange(pool);
        return chain;
    }

    internal static CertificateName Name(X500DistinguishedName name)
    {
        var result = new CertificateName();
        var parts = new List<string>();
        // RFC 4514 §2.1 writes RDNs in reverse of their encoded order, which is what reversed: true yields.
        foreach (var rdn in name.EnumerateRelativeDistinguishedNames(reversed: true))
        {
            var oid = rdn.GetSingleElementType().Value ?? string.Empty;
            string value;
            try
            {
                value = rdn.GetSingleElementValue() ?? string.Empty;
            }
            catch (CryptographicException)
            {
                value = string.Empty;
            }

            switch (oid)
            {
                case "2.5.4.3": result.CommonName = First(result.CommonName, value); break;
                case "2.5.4.10": result.Organization = First(result.Organization, value); break;
                case "2.5.4.11": result.OrganizationalUnit = First(result.OrganizationalUnit, value); break;
                case "2.5.4.6": result.Country = First(result.Country, value); break;
                case "2.5.4.7": result.Locality = First(result.Locality, value); break;
                case "2.5.4.8": result.State = First(result.State, value); break;
                case "1.2.840.113549.1.9.1": result.Email = First(result.Email, value); break;
            }

            parts.Add($"{ShortNames.GetValueOrDefault(oid, oid)}={Escape4514(value)}");
        }

        result.Raw = string.Join(',', parts);
        return result;
    }

    private static string First(string existing, string value) => existing.Length > 0 ? existing : value;

    private static string Escape4514(string value)
    {
        // RFC 4514 §2.4: escape specials, a leading '#' or space, a trailing space.
        var sb = new StringBuilder(value.Length + 4);
        for (var i = 0; i < value.Length; i++)
        {
            var ch = value[i];
            if (ch is '"' or '+' or ',' or ';' or '<' or '>' or '\\' || (i == 0 && ch is '#' or ' ') || (i == value.Length - 1 && ch == ' '))
            {
                sb.Append('\\');
            }

            sb.Append(ch);
        }

        return sb.ToString();
    }

    private static (string Type, int Bits) PublicKey(X509Certificate2 certificate)
    {
        var oid = certificate.PublicKey.Oid.Value;
        try
        {
            switch (oid)
            {
                case "1.2.840.113549.1.1.1":
                case "1.2.840.113549.1.1.10":
                {
                    using var rsa = certificate.GetRSAPublicKey();
                    return ("rsa", rsa?.KeySize ?? 0);
                }

                case "1.2.840.10045.2.1":
                {
                    using var ec = certificate.GetECDsaPublicKey();
                    return ("ec", ec?.KeySize ?? 0);
                }

                case "1.2.840.10040.4.1":
                {
                    using var dsa = certificate.GetDSAPublicKey();
                    return ("dsa", dsa?.KeySize ?? 0);
                }

                case "1.3.101.112":
                    return ("ed25519", 256);
                case "1.3.101.113":
                    return ("ed448", 456);
                default:
                    return (oid ?? "unknown", 0);
            }
        }
        catch (CryptographicException)
        {
            return (oid ?? "unknown", 0);
        }
    }

    private static IEnumerable<string> SubjectAltNames(X509Certificate2 certificate)
    {
        var extension = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        if (extension is null)
        {
            return [];
        }

        var names = new List<string>();
        try
        {
            names.AddRange(extension.EnumerateDnsNames());
            names.AddRange(extension.EnumerateIPAddresses().Select(ip => ip.ToString()));
        }
        catch (CryptographicException)
        {
            // A malformed SAN extension: keep what was read.
        }

        return names;
    }
}
