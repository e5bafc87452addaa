using ExposureIndex.Grabbers.Tests.Support;
using ExposureIndex.Grabbers.Tls;

namespace ExposureIndex.Grabbers.Tests.Tls;

public sealed class TlsParserTests
{
    private static TlsResult ParseAllWays(byte[] fixture) => ParserFeeding.AllWays(() => new TlsParser(), fixture, canonical: r => r.Canonical());

    [Fact]
    public void Feed_NginxTls13Reply_ServerHelloAndJa3s()
    {
        var result = ParseAllWays(ProtocolFixtures.Read("Tls", "nginx-tls13-reply.bin"));

        Assert.False(result.IsAlert);
        Assert.Equal(0x0303, result.LegacyVersion);
        Assert.Equal(0x0304, result.Version);
        Assert.Equal(0x1301, result.CipherSuite);
        Assert.Equal("TLS_AES_128_GCM_SHA256", TlsNames.Cipher(result.CipherSuite));
        Assert.Equal([(ushort)43, (ushort)51], result.Extensions);
        Assert.Equal("771,4865,43-51", result.Ja3sText);
        // md5("771,4865,43-51"), computed with Python's hashlib.
        Assert.Equal("f4febc55ea12b31ae17cfb7e614afda8", result.Ja3s);
        Assert.False(result.HelloRetryRequest);
    }

    [Fact]
    public void Feed_NginxTls12Reply_ServerHelloWithAlpnAndJa3s()
    {
        var result = ParseAllWays(ProtocolFixtures.Read("Tls", "nginx-tls12-reply.bin"));

        Assert.Equal(0x0303, result.Version);
        Assert.Equal("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", TlsNames.Cipher(result.CipherSuite));
        Assert.Equal("771,49195,65281-11-35-16-23", result.Ja3sText);
        Assert.Equal("afbc203706421f15554867b55caf16d6", result.Ja3s);
        Assert.Equal("http/1.1", result.Alpn);
    }

    [Fact]
    public void Feed_NginxTls10Alert_ProtocolVersionAlert()
    {
        var result = ParseAllWays(ProtocolFixtures.Read("Tls", "nginx-tls10-alert.bin"));

        Assert.True(result.IsAlert);
        Assert.Equal(2, result.AlertLevel);
        Assert.Equal("protocol_version", TlsNames.Alert(result.AlertDescription));
        Assert.Equal(string.Empty, result.Ja3s);
    }

    [Fact]
    public void Feed_ServerHelloRecordPrefixes_NeedMore()
    {
        var fixture = ProtocolFixtures.Read("Tls", "nginx-tls13-reply.bin");
        var recordLength = 5 + ((fixture[3] << 8) | fixture[4]);

        ParserFeeding.PrefixesNeedMore(() => new TlsParser(), fixture[..recordLength]);
    }

    [Fact]
    public void Feed_ServerHelloSplitAcrossRecords_SameResult()
    {
        var fixture = ProtocolFixtures.Read("Tls", "nginx-tls13-reply.bin");
        var message = fixture[5..(5 + ((fixture[3] << 8) | fixture[4]))];
        byte[] Record(byte[] payload) => [22, 3, 3, (byte)(payload.Length >> 8), (byte)payload.Length, .. payload];
        var split = Record(message[..10]).Concat(Record(message[10..50])).Concat(Record(message[50..])).ToArray();

        var result = ParseAllWays(split);

        Assert.Equal(ParseAllWays(fixture).Canonical(), result.Canonical());
    }

    [Fact]
    public void Feed_HelloRetryRequestRandom_Flagged()
    {
        var fixture = ProtocolFixtures.Read("Tls", "nginx-tls13-reply.bin");
        var hrr = fixture.ToArray();
        Convert.FromHexString("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C").CopyTo(hrr, 11);

        Assert.True(ParseAllWays(hrr).HelloRetryRequest);
    }

    [Theory]
    [InlineData("garbage-random.bin", "not a TLS record")]
    [InlineData("garbage-http.bin", "plaintext HTTP")]
    [InlineData("hostile-huge-record.bin", "outside 1..")]
    [InlineData("hostile-certificate-first.bin", "expected a ServerHello")]
    [InlineData("hostile-appdata-first.bin", "not a TLS record")]
    [InlineData("hostile-truncated-serverhello.bin", "cut short")]
    public void Feed_GarbageOrHostile_InvalidWithReason(string fixture, string reason)
    {
        var bytes = ProtocolFixtures.Read("Tls", fixture);
        var parser = new TlsParser();

        var status = parser.Feed(bytes);

        Assert.Equal(ParseStatus.Invalid, status);
        Assert.Contains(reason, parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_EndlessChangeCipherSpecRecords_InvalidAfterRecordCap()
    {
        var parser = new TlsParser();
        var status = parser.Feed([22, 3, 3, 0, 1, 2]);
        byte[] ccs = [20, 3, 3, 0, 1, 1];

        for (var i = 0; i < 1000 && status == ParseStatus.NeedMore; i++)
        {
            status = parser.Feed(ccs);
        }

        Assert.Equal(ParseStatus.Invalid, status);
        Assert.Contains("type 20 arrived before the ServerHello", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void End_NothingOrPartial_InvalidWithReason()
    {
        var empty = new TlsParser();
        Assert.Equal(ParseStatus.Invalid, empty.End());
        Assert.Contains("without answering", empty.Error, StringComparison.Ordinal);

        var partial = new TlsParser();
        partial.Feed(ProtocolFixtures.Read("Tls", "nginx-tls13-reply.bin").AsSpan(0, 40));
        Assert.Equal(ParseStatus.Invalid, partial.End());
        Assert.Contains("before a complete ServerHello", partial.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData((ushort)0x0a0a, true)]
    [InlineData((ushort)0xfafa, true)]
    [InlineData((ushort)0x0a1a, false)]
    [InlineData((ushort)43, false)]
    public void IsGrease_CodePoints_Rfc8701(ushort value, bool grease) => Assert.Equal(grease, TlsResult.IsGrease(value));
}
