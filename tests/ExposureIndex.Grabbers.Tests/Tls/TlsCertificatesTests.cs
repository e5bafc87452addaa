using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExposureIndex.Grabbers.Tls;

namespace ExposureIndex.Grabbers.Tests.Tls;

public sealed class TlsCertificatesTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Describe_SelfSignedEc_FieldsFromTheCertificate()
    {
        using var certificate = TestCertificates.SelfSigned("host.test", Now.AddDays(-1), Now.AddDays(30));

        var described = TlsCertificates.Describe(certificate, Now);

        // RFC 4514 §2.1 writes the RDNs in reverse of their DER order; read that order from the encoding itself.
        var der = certificate.SubjectName.RawData.AsSpan();
        var countryFirst = der.IndexOf(new byte[] { 6, 3, 0x55, 4, 6 }) < der.IndexOf(new byte[] { 6, 3, 0x55, 4, 3 });
        Assert.Equal(countryFirst ? "CN=host.test,O=Hostile\\, Inc.,C=NL" : "C=NL,O=Hostile\\, Inc.,CN=host.test", described.Subject.Raw);
        Assert.Equal("host.test", described.Subject.CommonName);
        Assert.Equal("Hostile, Inc.", described.Subject.Organization);
        Assert.Equal("NL", described.Subject.Country);
        Assert.Equal(described.Subject, described.Issuer);
        Assert.True(described.SelfSigned);
        Assert.False(described.Expired);
        Assert.Equal("ec", described.PublicKeyType);
        Assert.Equal(256, described.PublicKeyBits);
        Assert.Equal("ecdsa-with-SHA256", described.SignatureAlgorithm);
        Assert.Equal(["host.test", "127.0.0.1"], described.SubjectAltNames);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(certificate.RawData)), described.Sha256);
        Assert.Equal(certificate.GetCertHashString().ToLowerInvariant(), described.Sha1);
        Assert.Equal(certificate.RawData, described.Der.ToByteArray());
        Assert.Equal(new DateTimeOffset(certificate.NotAfter.ToUniversalTime()), described.NotAfter.ToDateTimeOffset());
    }

    [Fact]
    public void Describe_PastNotAfter_Expired()
    {
        using var certificate = TestCertificates.SelfSigned("old.test", Now.AddYears(-2), Now.AddYears(-1), rsa: true);

        var described = TlsCertificates.Describe(certificate, Now);

        Assert.True(described.Expired);
        Assert.Equal("rsa", described.PublicKeyType);
        Assert.Equal(2048, described.PublicKeyBits);
        Assert.Equal("sha256WithRSAEncryption", described.SignatureAlgorithm);
    }

    [Fact]
    public void Serial_HighBitSet_SignPaddingDropped()
    {
        var (root, intermediate, leaf) = TestCertificates.Chain(Now);
        using (root)
        using (intermediate)
        using (leaf)
        {
            Assert.Equal("8f001122", TlsCertificates.Serial(leaf));
            Assert.Equal("0102", TlsCertificates.Serial(intermediate));
        }
    }

    [Fact]
    public void Order_ShuffledChain_LeafIntermediateRoot()
    {
        var (root, intermediate, leaf) = TestCertificates.Chain(Now);
        using (root)
        using (intermediate)
        using (leaf)
        {
            var ordered = TlsCertificates.Order(leaf, [root, leaf, intermediate]);

            Assert.Equal([leaf.Thumbprint, intermediate.Thumbprint, root.Thumbprint], ordered.Select(c => c.Thumbprint));
            Assert.False(TlsCertificates.IsSelfSigned(leaf));
            Assert.False(TlsCertificates.IsSelfSigned(intermediate));
            Assert.True(TlsCertificates.IsSelfSigned(root));
            var described = TlsCertificates.Describe(intermediate, Now);
            Assert.Equal("rsa", described.PublicKeyType);
            Assert.Equal(3072, described.PublicKeyBits);
            Assert.Equal("CN=Test Root,O=Chain Tests", described.Issuer.Raw);
            Assert.Equal("ec", TlsCertificates.Describe(root, Now).PublicKeyType);
            Assert.Equal(384, TlsCertificates.Describe(root, Now).PublicKeyBits);
            // The request's hash (SHA-256) with the root's ECDSA key.
            Assert.Equal("ecdsa-with-SHA256", described.SignatureAlgorithm);
        }
    }

    [Fact]
    public void Order_UnrelatedExtra_GoesLast()
    {
        var (root, intermediate, leaf) = TestCertificates.Chain(Now);
        using var stray = TestCertificates.SelfSigned("stray.test", Now.AddDays(-1), Now.AddDays(1));
        using (root)
        using (intermediate)
        using (leaf)
        {
            var ordered = TlsCertificates.Order(leaf, [stray, intermediate]);

            Assert.Equal([leaf.Thumbprint, intermediate.Thumbprint, stray.Thumbprint], ordered.Select(c => c.Thumbprint));
        }
    }
}
