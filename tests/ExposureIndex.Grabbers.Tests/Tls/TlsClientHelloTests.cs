using System.Buffers.Binary;
using ExposureIndex.Grabbers.Tls;

namespace ExposureIndex.Grabbers.Tests.Tls;

public sealed class TlsClientHelloTests
{
    /// <summary>Walks a ClientHello record (RFC 8446 §4.1.2) and returns its legacy version, suites and extensions.</summary>
    private static (ushort Version, List<ushort> Suites, Dictionary<ushort, byte[]> Extensions) Read(byte[] record)
    {
        Assert.Equal(22, record[0]);
        Assert.Equal(record.Length - 5, BinaryPrimitives.ReadUInt16BigEndian(record.AsSpan(3)));
        Assert.Equal(1, record[5]);
        Assert.Equal(record.Length - 9, (record[6] << 16) | (record[7] << 8) | record[8]);
        var body = record.AsSpan(9);
        var version = BinaryPrimitives.ReadUInt16BigEndian(body);
        var at = 2 + 32;
        at += 1 + body[at];
        var suitesLength = BinaryPrimitives.ReadUInt16BigEndian(body[at..]);
        var suites = new List<ushort>();
        for (var i = 0; i < suitesLength; i += 2)
        {
            suites.Add(BinaryPrimitives.ReadUInt16BigEndian(body[(at + 2 + i)..]));
        }

        at += 2 + suitesLength;
        at += 1 + body[at];
        var extEnd = at + 2 + BinaryPrimitives.ReadUInt16BigEndian(body[at..]);
        Assert.Equal(body.Length, extEnd);
        at += 2;
        var extensions = new Dictionary<ushort, byte[]>();
        while (at < extEnd)
        {
            var type = BinaryPrimitives.ReadUInt16BigEndian(body[at..]);
            var length = BinaryPrimitives.ReadUInt16BigEndian(body[(at + 2)..]);
            extensions.Add(type, body.Slice(at + 4, length).ToArray());
            at += 4 + length;
        }

        return (version, suites, extensions);
    }

    [Fact]
    public void Build_AllVersions_OffersTls13And12WithKeyShares()
    {
        var (version, suites, extensions) = Read(TlsClientHello.Build("www.example.test", alpn: ["h2", "http/1.1"]));

        Assert.Equal(TlsClientHello.Tls12, version);
        Assert.Contains((ushort)0x1301, suites);
        Assert.Contains((ushort)0xc02f, suites);
        Assert.Equal(Convert.FromHexString("0803040303030203 01".Replace(" ", string.Empty, StringComparison.Ordinal)), extensions[43]);
        // key_share: x25519 (32 bytes) and secp256r1 (uncompressed point, 65 bytes).
        var shares = extensions[51];
        Assert.Equal(2 + 4 + 32 + 4 + 65, shares.Length);
        Assert.Equal(0x04, shares[2 + 4 + 32 + 4]);
        Assert.Equal("\u0002h2\u0008http/1.1", System.Text.Encoding.ASCII.GetString(extensions[16].AsSpan(2)));
        Assert.Equal("www.example.test", System.Text.Encoding.ASCII.GetString(extensions[0].AsSpan(5)));
    }

    [Theory]
    [InlineData(TlsClientHello.Tls10)]
    [InlineData(TlsClientHello.Tls11)]
    [InlineData(TlsClientHello.Tls12)]
    public void Build_OneLegacyVersion_LegacyFieldNoSupportedVersions(ushort only)
    {
        var (version, suites, extensions) = Read(TlsClientHello.Build(null, only));

        Assert.Equal(only, version);
        Assert.False(extensions.ContainsKey(43));
        Assert.False(extensions.ContainsKey(51));
        Assert.DoesNotContain((ushort)0x1301, suites);
    }

    [Fact]
    public void Build_Tls13Only_SupportedVersionsHoldsOnly13()
    {
        var (version, suites, extensions) = Read(TlsClientHello.Build(null, TlsClientHello.Tls13));

        Assert.Equal(TlsClientHello.Tls12, version);
        Assert.Equal([2, 3, 4], extensions[43]);
        Assert.All(suites, s => Assert.Equal(0x13, s >> 8));
    }

    [Fact]
    public void Build_IpAddressName_NoSni() => Assert.False(Read(TlsClientHello.Build("127.0.0.1")).Extensions.ContainsKey(0));
}
