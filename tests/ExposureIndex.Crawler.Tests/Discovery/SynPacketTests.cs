using System.Buffers.Binary;
using ExposureIndex.Crawler.Discovery;

namespace ExposureIndex.Crawler.Tests.Discovery;

public sealed class SynPacketTests
{
    // SipHash-2-4 with key 00 01 .. 0f over the message 00 01 .. (n-1): the reference vectors of Aumasson and
    // Bernstein (n = 0 and n = 15 are printed in the paper; n = 16 from an independent Python implementation).
    private const ulong K0 = 0x0706050403020100;
    private const ulong K1 = 0x0f0e0d0c0b0a0908;

    [Theory]
    [InlineData(0, 0x726fdb47dd0e0e31UL)]
    [InlineData(1, 0x74f839c593dc67fdUL)]
    [InlineData(8, 0x93f5f5799a932462UL)]
    [InlineData(15, 0xa129ca6149be45e5UL)]
    [InlineData(16, 0x3f2acc7f57c29bdbUL)]
    public void SipHash24_ReferenceVectors_Match(int length, ulong expected)
    {
        var message = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();
        Assert.Equal(expected, SynCookie.SipHash24(K0, K1, message));
    }

    [Fact]
    public void HashWords_EqualsSipHashOfTheSixteenBytes()
    {
        var cookie = new SynCookie(K0, K1);
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 0x0706050403020100);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[8..], 0x0f0e0d0c0b0a0908);
        Assert.Equal(0x3f2acc7f57c29bdbUL, cookie.HashWords(0x0706050403020100, 0x0f0e0d0c0b0a0908));
        Assert.Equal(SynCookie.SipHash24(K0, K1, bytes), cookie.HashWords(0x0706050403020100, 0x0f0e0d0c0b0a0908));
    }

    [Fact]
    public void Cookie_VerifiesOnlyItsOwnTuple()
    {
        var cookie = new SynCookie(1, 2);
        var seq = cookie.Compute(0x7F000001, 61000, 0x7F100203, 443);
        Assert.True(cookie.Verify(0x7F000001, 61000, 0x7F100203, 443, seq + 1));
        Assert.False(cookie.Verify(0x7F000001, 61000, 0x7F100203, 443, seq));
        Assert.False(cookie.Verify(0x7F000001, 61000, 0x7F100203, 444, seq + 1));
        Assert.False(cookie.Verify(0x7F000001, 61000, 0x7F100204, 443, seq + 1));
        Assert.False(new SynCookie(1, 3).Verify(0x7F000001, 61000, 0x7F100203, 443, seq + 1));
    }

    [Fact]
    public void Syn_Golden_MatchesAnIndependentEncoding()
    {
        // Built by a separate Python script from RFC 791 / RFC 9293 layouts, checksums per RFC 1071.
        const string expected = "4500002c0102000040068d8ec0000201c6336407ee4801bb01020304000000006002faf0bcef0000020405b4";
        var packet = new byte[TcpPackets.SynBytes];
        TcpPackets.WriteTemplate(packet, 0xC0000201, 61000);
        TcpPackets.CompleteSyn(packet, 0xC6336407, 443, 0x01020304);
        Assert.Equal(expected, Convert.ToHexStringLower(packet));
        Assert.True(TcpPackets.IpChecksumValid(packet));
        Assert.True(TcpPackets.TcpChecksumValid(packet));
    }

    [Fact]
    public void Syn_Reused_TemplateGivesValidChecksumsEveryTime()
    {
        var packet = new byte[TcpPackets.SynBytes];
        TcpPackets.WriteTemplate(packet, 0x7F000001, 62000);
        var random = new Random(5);
        for (var i = 0; i < 1000; i++)
        {
            TcpPackets.CompleteSyn(packet, (uint)random.NextInt64(0, uint.MaxValue), (ushort)random.Next(1, 65536), (uint)random.NextInt64(0, uint.MaxValue));
            Assert.True(TcpPackets.IpChecksumValid(packet));
            Assert.True(TcpPackets.TcpChecksumValid(packet));
        }
    }

    [Fact]
    public void TryParse_OurSyn_ReadsTheFields()
    {
        var packet = new byte[TcpPackets.SynBytes];
        TcpPackets.WriteTemplate(packet, 0x7F000001, 62000);
        TcpPackets.CompleteSyn(packet, 0x7F102030, 8080, 0xCAFEBABE);
        Assert.True(TcpPackets.TryParse(packet, out var segment));
        Assert.Equal(new TcpSegmentInfo(0x7F000001, 0x7F102030, 62000, 8080, 0xCAFEBABE, 0, TcpFlags.Syn), segment);
    }

    [Fact]
    public void TryParse_NotTcpOrTruncatedOrFragment_IsRefused()
    {
        var packet = new byte[TcpPackets.SynBytes];
        TcpPackets.WriteTemplate(packet, 0x7F000001, 62000);
        TcpPackets.CompleteSyn(packet, 0x7F102030, 8080, 1);
        Assert.False(TcpPackets.TryParse(packet.AsSpan(0, 30), out _));
        var udp = (byte[])packet.Clone();
        udp[9] = 17;
        Assert.False(TcpPackets.TryParse(udp, out _));
        var fragment = (byte[])packet.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(6), 0x0010);
        Assert.False(TcpPackets.TryParse(fragment, out _));
        var v6 = (byte[])packet.Clone();
        v6[0] = 0x60;
        Assert.False(TcpPackets.TryParse(v6, out _));
    }
}
