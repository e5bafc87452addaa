namespace ExposureIndex.Contracts.Tests;

public sealed class IpTextTests
{
    [Theory]
    [InlineData("1.2.3.4", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("256.1.1.1", false)]
    [InlineData("01.1.1.1", false)]
    [InlineData("1.1.1", false)]
    [InlineData("1.1.1.1.", false)]
    [InlineData("1.1.1.1.1", false)]
    [InlineData("1..1.1", false)]
    [InlineData("1.1.1.1234", false)]
    [InlineData("", false)]
    [InlineData(" 1.1.1.1", false)]
    [InlineData("::1", false)]
    public void DottedQuad_IsStrict(string text, bool valid)
        => Assert.Equal(valid, IpText.TryParseDottedQuad(text, out _));

    [Fact]
    public void DottedQuad_ReadsTheAddressBigEndian()
    {
        Assert.True(IpText.TryParseDottedQuad("192.0.2.10", out var value));
        Assert.Equal(0xC000020Au, value);
    }
}
