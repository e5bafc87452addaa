using ExposureIndex.Rpc.Core;

namespace ExposureIndex.Rpc.Tests.Core;

public sealed class StatusMessageEncodingTests
{
    [Theory]
    [InlineData("plain message", "plain message")]
    [InlineData("100%", "100%25")]
    [InlineData("a\nb", "a%0Ab")]
    [InlineData("tab\there", "tab%09here")]
    [InlineData("ü", "%C3%BC")]
    [InlineData("日本", "%E6%97%A5%E6%9C%AC")]
    [InlineData("\u007f", "%7F")]
    [InlineData("", "")]
    public void Encode_Message_PercentEncodesOutsidePrintableAsciiAndPercent(string message, string expected)
    {
        Assert.Equal(expected, StatusMessageEncoding.Encode(message));
    }

    [Theory]
    [InlineData("Größe überschritten – 100% voll")]
    [InlineData("emoji 🚀 and CJK 漢字")]
    [InlineData("control \u0001\u001f chars")]
    [InlineData("%%%25%")]
    [InlineData("~!@#$^&*()_+{}|:\"<>?`-=[]\\;',./ ")]
    public void EncodeThenDecode_AnyText_RoundTrips(string message)
    {
        var encoded = StatusMessageEncoding.Encode(message);
        Assert.All(encoded, c => Assert.InRange(c, ' ', '~'));
        Assert.Equal(message, StatusMessageEncoding.Decode(encoded));
    }

    [Fact]
    public void EncodeThenDecode_RandomUnicode_RoundTrips()
    {
        var random = new Random(7);
        for (var i = 0; i < 2000; i++)
        {
            var chars = Enumerable.Range(0, random.Next(0, 40)).Select(_ => (char)random.Next(1, 0xD7FF)).ToArray();
            var message = new string(chars);
            Assert.Equal(message, StatusMessageEncoding.Decode(StatusMessageEncoding.Encode(message)));
        }
    }

    [Theory]
    [InlineData("%", "%")]
    [InlineData("50%", "50%")]
    [InlineData("%G1", "%G1")]
    [InlineData("%4", "%4")]
    [InlineData("%c3%bc", "ü")]
    [InlineData("%C3", "\uFFFD")]
    public void Decode_BrokenOrLowercaseSequence_NeverThrowsAndKeepsWhatItCannotDecode(string encoded, string expected)
    {
        Assert.Equal(expected, StatusMessageEncoding.Decode(encoded));
    }
}
