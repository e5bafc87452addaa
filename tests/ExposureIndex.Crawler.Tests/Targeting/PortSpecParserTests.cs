using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Tests.Targeting;

public sealed class PortSpecParserTests
{
    private static PortSpec ParseOk(string text)
    {
        var errors = new List<SpecError>();
        var spec = PortSpecParser.Parse(text, "ports", errors);
        Assert.Empty(errors);
        return Assert.IsType<PortSpec>(spec);
    }

    private static SpecError ParseOneError(string text)
    {
        var errors = new List<SpecError>();
        Assert.Null(PortSpecParser.Parse(text, "ports", errors));
        return Assert.Single(errors);
    }

    [Theory]
    [InlineData("22", "22", 1)]
    [InlineData("22,80,8000-8100", "22,80,8000-8100", 103)]
    [InlineData("80,22,80,21-23", "21-23,80", 4)]
    [InlineData("-1024", "1-1024", 1024)]
    [InlineData("60000-", "60000-65535", 5536)]
    [InlineData("-", "1-65535", 65535)]
    [InlineData("1-5,3-10,11", "1-11", 11)]
    [InlineData(" 22 , 80 ", "22,80", 2)]
    public void Parse_NmapTcpForms_NormalisesRanges(string text, string canonical, int count)
    {
        var spec = ParseOk(text);
        Assert.Equal(canonical, spec.Tcp.ToString());
        Assert.Equal(count, spec.Tcp.Count);
        Assert.True(spec.Udp.IsEmpty);
    }

    [Fact]
    public void Parse_ProtocolQualifiers_AreStickyUntilTheNext()
    {
        var spec = ParseOk("T:22,80,U:53,161,T:443");
        Assert.Equal("22,80,443", spec.Tcp.ToString());
        Assert.Equal("53,161", spec.Udp.ToString());
        Assert.Equal("T:22,80,443,U:53,161", spec.ToString());
    }

    [Fact]
    public void Parse_UnqualifiedBeforeUdpQualifier_IsTcp()
    {
        var spec = ParseOk("22,U:53,t:25");
        Assert.Equal("22,25", spec.Tcp.ToString());
        Assert.Equal("53", spec.Udp.ToString());
    }

    [Fact]
    public void Parse_OnlyUdp_LeavesTcpEmpty()
    {
        var spec = ParseOk("U:53,161-162");
        Assert.True(spec.Tcp.IsEmpty);
        Assert.Equal(3, spec.Udp.Count);
    }

    [Theory]
    [InlineData("22,70000", 4, "70000", "out of range")]
    [InlineData("0", 1, "0", "port 0")]
    [InlineData("80,0-10", 4, "0", "port 0")]
    [InlineData("100-50", 1, "100-50", "backwards")]
    [InlineData("22,,80", 4, "", "empty port entry")]
    [InlineData("22,", 4, "", "empty port entry")]
    [InlineData("http", 1, "http", "service names")]
    [InlineData("22,ssh-80", 4, "ssh", "service names")]
    [InlineData("X:22", 1, "X:", "unknown protocol qualifier")]
    [InlineData("S:9", 1, "S:9", "SCTP")]
    [InlineData("P:6", 1, "P:6", "IP protocol")]
    [InlineData("22,T:", 4, "T:", "not followed by a port")]
    [InlineData("8*", 1, "8*", "wildcards")]
    [InlineData("[1-1024]", 1, "[1-1024]", "brackets")]
    [InlineData("22,1.5", 4, "1.5", "not a port number")]
    [InlineData("99999999999999999999", 1, "99999999999999999999", "out of range")]
    [InlineData("1-2-3", 3, "2-3", "not a port number")]
    public void Parse_BadToken_NamesTokenAndColumn(string text, int column, string token, string message)
    {
        var error = ParseOneError(text);
        Assert.Equal(column, error.Column);
        Assert.Equal(token, error.Token);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.StartsWith($"ports, column {column}: '{token}'", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SeveralBadTokens_ReportsEveryOne()
    {
        var errors = new List<SpecError>();
        Assert.Null(PortSpecParser.Parse("0,22,70000,abc,U:", "ports", errors));
        Assert.Equal([1, 6, 12, 16], errors.Select(e => e.Column));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public void Parse_Empty_IsAnError(string? text)
    {
        var errors = new List<SpecError>();
        Assert.Null(PortSpecParser.Parse(text, "ports", errors));
        Assert.Contains("no ports", Assert.Single(errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PortSet_Indexer_WalksRangesInOrder()
    {
        var set = ParseOk("8000-8002,22,443").Tcp;
        Assert.Equal([22, 443, 8000, 8001, 8002], Enumerable.Range(0, set.Count).Select(i => set[i]));
        Assert.Equal(set.Enumerate(), Enumerable.Range(0, set.Count).Select(i => set[i]));
        Assert.True(set.Contains(8001));
        Assert.False(set.Contains(8003));
        Assert.Throws<ArgumentOutOfRangeException>(() => set[5]);
    }
}
