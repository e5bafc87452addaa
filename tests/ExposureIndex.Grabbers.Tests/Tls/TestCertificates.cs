using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ExposureIndex.Grabbers.Tests.Tls;

/// <summary>Certificates made in the test (CertificateRequest), with private keys usable by an SslStream server.</summary>
internal static class TestCertificates
{
    public static X509Certificate2 SelfSigned(string commonName, DateTimeOffset notBefore, DateTimeOffset notAfter, bool rsa = false)
    {
        var name = new X500DistinguishedNameBuilder();
        name.AddCountryOrRegion("NL");
        name.AddOrganizationName("Hostile, Inc.");
        name.AddCommonName(commonName);
        using var key = rsa ? (AsymmetricAlgorithm)RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = key is RSA r
            ? new CertificateRequest(name.Build(), r, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest(name.Build(), (ECDsa)key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(commonName);
        san.AddIpAddress(System.Net.IPAddress.Parse("127.0.0.1"));
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var certificate = request.CreateSelfSigned(notBefore, notAfter);
        // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>A CA, an intermediate and a leaf (serial with the high bit set).</summary>
    public static (X509Certificate2 Root, X509Certificate2 Intermediate, X509Certificate2 Leaf) Chain(DateTimeOffset now)
    {
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var rootRequest = new CertificateRequest("CN=Test Root, O=Chain Tests", rootKey, HashAlgorithmName.SHA384);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(rootRequest.PublicKey, false));
        var root = rootRequest.CreateSelfSigned(now.AddDays(-10), now.AddDays(100));

        using var midKey = RSA.Create(3072);
        var midRequest = new CertificateRequest("CN=Test Intermediate, O=Chain Tests", midKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        midRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        midRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(midRequest.PublicKey, false));
        midRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(root, true, false));
        using var midPublic = midRequest.Create(root.SubjectName, X509SignatureGenerator.CreateForECDsa(rootKey), now.AddDays(-5), now.AddDays(50), [0x01, 0x02]);
        var intermediate = midPublic.CopyWithPrivateKey(midKey);

        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leafRequest = new CertificateRequest("CN=leaf.chain.test, O=Chain Tests", leafKey, HashAlgorithmName.SHA256);
        leafRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(intermediate, true, false));
        var leaf = leafRequest.Create(intermediate.SubjectName, X509SignatureGenerator.CreateForRSA(midKey, RSASignaturePadding.Pkcs1), now.AddDays(-1), now.AddDays(10), [0x8f, 0x00, 0x11, 0x22]);
        return (root, intermediate, leaf);
    }
}
