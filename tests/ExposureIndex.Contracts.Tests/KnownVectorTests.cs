using System.Text;

namespace ExposureIndex.Contracts.Tests;

public sealed class KnownVectorTests
{
    // Values from the reference MurmurHash3_x86_32 (seed 0) as exposed by Python's mmh3.hash, which Shodan uses.
    [Theory]
    [InlineData("", 0)]
    [InlineData("hello", 613153351)]
    [InlineData("foo", -156908512)]
    [InlineData("The quick brown fox jumps over the lazy dog", 776992547)]
    public void MurmurHash3_KnownInputs_MatchMmh3(string input, int expected)
        => Assert.Equal(expected, MurmurHash3.Hash32(Encoding.UTF8.GetBytes(input)));

    // RFC 3720 §B.4 test vectors and the common "123456789" check value.
    [Fact]
    public void Crc32C_CheckValue_Matches() => Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));

    [Fact]
    public void Crc32C_ThirtyTwoZeroBytes_MatchesRfc3720() => Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));

    [Fact]
    public void Crc32C_ThirtyTwoOnes_MatchesRfc3720() => Assert.Equal(0x62A8AB43u, Crc32C.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray()));

    [Fact]
    public void Crc32C_Append_EqualsWholeComputation()
    {
        var data = Encoding.ASCII.GetBytes("incremental checksums over split buffers");
        for (var split = 0; split <= data.Length; split++)
        {
            Assert.Equal(Crc32C.Compute(data), Crc32C.Append(Crc32C.Compute(data.AsSpan(0, split)), data.AsSpan(split)));
        }
    }

    [Theory]
    [InlineData("cpe:2.3:a:nginx:nginx:1.22.1:*:*:*:*:*:*:*", "cpe:/a:nginx:nginx:1.22.1")]
    [InlineData("cpe:2.3:a:openbsd:openssh:*:*:*:*:*:*:*:*", "cpe:/a:openbsd:openssh")]
    [InlineData("cpe:2.3:o:debian:debian_linux:12:*:*:*:*:*:*:*", "cpe:/o:debian:debian_linux:12")]
    public void Cpe_FormattedString_ConvertsToShodanUri(string formatted, string uri)
    {
        Assert.True(Cpe.TryToUri(formatted, out var converted));
        Assert.Equal(uri, converted);
    }

    [Fact]
    public void Cpe_Application_EscapesAndDefaultsVersion()
    {
        Assert.Equal("cpe:2.3:a:apache:http_server:2.4.57:*:*:*:*:*:*:*", Cpe.Application("apache", "http_server", "2.4.57"));
        Assert.Equal("cpe:2.3:a:igor_sysoev:nginx:*:*:*:*:*:*:*:*", Cpe.Application("Igor Sysoev", "nginx", null));
        Assert.Equal("cpe:2.3:a:x:y:1.0\\+beta:*:*:*:*:*:*:*", Cpe.Application("x", "y", "1.0+beta"));
    }

    [Fact]
    public void BannerText_InvalidUtf8_MapsThroughLatin1()
    {
        Assert.Equal("caf\u00e9", BannerText.Decode("caf\u00e9"u8));
        Assert.Equal("\u00ff\u00fe", BannerText.Decode([0xFF, 0xFE]));
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0x53, 0x53, 0x48, 0x2D, 0x32 })]
    [InlineData(new byte[] { 0x63, 0x61, 0x66, 0xC3, 0xA9 })]
    [InlineData(new byte[] { 0xFF, 0xFE, 0x41 })]
    [InlineData(new byte[] { 0xE2, 0x82 })]
    public void BannerText_DecodeIntoBuffer_MatchesStringDecode(byte[] data)
    {
        var buffer = new char[data.Length];
        var written = BannerText.Decode(data, buffer);
        Assert.Equal(BannerText.Decode(data), new string(buffer, 0, written));
    }

    [Fact]
    public void BannerText_DecodeIntoShortBuffer_IsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => BannerText.Decode("abc"u8, new char[2]));
        Assert.Contains("3 are needed", error.Message, StringComparison.Ordinal);
    }
}
