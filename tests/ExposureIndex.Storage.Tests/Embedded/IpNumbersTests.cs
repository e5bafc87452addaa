using System.Net;
using ExposureIndex.Storage.Embedded.Index;

namespace ExposureIndex.Storage.Tests.Embedded;

public sealed class IpNumbersTests
{
    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("1.2.3.4")]
    [InlineData("127.0.10.200")]
    [InlineData("255.255.255.255")]
    [InlineData("192.168.0.1")]
    [InlineData("::1")]
    [InlineData("2001:db8::1")]
    [InlineData("::ffff:1.2.3.4")]
    [InlineData("001.2.3.4")]
    [InlineData("1.2.3")]
    public void Parse_AgreesWithIPAddressParse(string text)
    {
        var expected = IpNumbers.ToUInt128(IPAddress.Parse(text).MapToIPv6());
        Assert.Equal(expected, IpNumbers.Parse(text));
    }

    [Fact]
    public void Parse_RejectsGarbage()
        => Assert.Throws<FormatException>(() => IpNumbers.Parse("not-an-ip"));
}
