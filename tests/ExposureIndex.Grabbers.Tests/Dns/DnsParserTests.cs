using ExposureIndex.Grabbers.Dns;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Dns;

public sealed class DnsParserTests
{
    private static byte[] Fixture(string name) => ProtocolFixtures.Read("Dns", name);

    [Theory]
    [InlineData(false, "bind-udp-version.bind.bin")]
    [InlineData(true, "bind-tcp-version.bind.bin")]
    public void Feed_BindVersionBind_DebianVersionStringAuthoritativeNoRecursion(bool tcp, string fixture)
    {
        var result = ParserFeeding.AllWays(() => new DnsParser(tcp), Fixture(fixture), endOfStream: !tcp, canonical: r => r.Canonical());

        Assert.True(result.IsResponse);
        Assert.True(result.Authoritative);
        Assert.False(result.RecursionAvailable);
        Assert.False(result.RecursionDesired);
        Assert.Equal("NOERROR", result.ResponseCodeName);
        Assert.Equal("version.bind", result.QuestionName);
        Assert.Equal(DnsQuery.TypeTxt, result.QuestionType);
        Assert.Equal(DnsQuery.ClassChaos, result.QuestionClass);
        Assert.Equal("9.18.49-1~deb12u3-Debian", result.FirstText);
    }

    [Theory]
    [InlineData(false, "bind-udp-hostname.bind.bin")]
    [InlineData(true, "bind-tcp-hostname.bind.bin")]
    public void Feed_BindHostnameBind_TheHostName(bool tcp, string fixture)
    {
        var result = ParserFeeding.AllWays(() => new DnsParser(tcp), Fixture(fixture), endOfStream: !tcp, canonical: r => r.Canonical());

        Assert.Equal("vm", result.FirstText);
    }

    [Theory]
    [InlineData(false, "bind-udp-id.server.bin")]
    [InlineData(true, "bind-tcp-id.server.bin")]
    public void Feed_BindIdServerWithoutServerId_NoAnswerButAuthority(bool tcp, string fixture)
    {
        var result = ParserFeeding.AllWays(() => new DnsParser(tcp), Fixture(fixture), endOfStream: !tcp, canonical: r => r.Canonical());

        Assert.Empty(result.Answers);
        Assert.Null(result.FirstText);
        Assert.Equal(1, result.AuthorityCount);
        Assert.Equal("id.server", result.QuestionName);
    }

    [Theory]
    [InlineData("bind-tcp-version.bind.bin")]
    [InlineData("bind-tcp-hostname.bind.bin")]
    [InlineData("bind-tcp-id.server.bin")]
    public void Feed_EveryTcpPrefix_NeedsMore(string fixture) => ParserFeeding.PrefixesNeedMore(() => new DnsParser(tcp: true), Fixture(fixture));

    [Fact]
    public void Feed_AnswerCount65535WithOneRecord_NeedsMoreThenEndIsInvalid()
    {
        var parser = new DnsParser(tcp: false);

        Assert.Equal(ParseStatus.NeedMore, parser.Feed(Fixture("hostile-answer-count-65535.bin")));
        Assert.Equal(ParseStatus.Invalid, parser.End());
        Assert.Contains("answer 1", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_CompressionPointerToItself_Invalid()
    {
        var parser = new DnsParser(tcp: false);

        Assert.Equal(ParseStatus.Invalid, parser.Feed(Fixture("hostile-pointer-loop.bin")));
        Assert.Contains("loops or points forward", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_TcpFrameWithRdataPastTheEnd_Invalid()
    {
        var parser = new DnsParser(tcp: true);

        Assert.Equal(ParseStatus.Invalid, parser.Feed(Fixture("hostile-rdlength-past-end.bin")));
        Assert.Contains("65535 data bytes", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_TcpFrameShorterThanAHeader_Invalid()
    {
        var parser = new DnsParser(tcp: true);

        Assert.Equal(ParseStatus.Invalid, parser.Feed([0x00, 0x05, 1, 2, 3, 4, 5]));
    }

    [Fact]
    public void End_TcpCutInsideTheMessage_InvalidNamingTheCounts()
    {
        var fixture = Fixture("bind-tcp-version.bind.bin");
        var parser = new DnsParser(tcp: true);
        parser.Feed(fixture.AsSpan(0, 20));

        Assert.Equal(ParseStatus.Invalid, parser.End());
        Assert.Contains("18 of 81", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_VersionBind_ChaosTxtQuestionWithRecursionDesiredClear()
    {
        var query = DnsQuery.Build(0x4000, DnsQuery.VersionBind);

        Assert.Equal(Convert.FromHexString("40000000000100000000000007" + "76657273696f6e" + "04" + "62696e64" + "00" + "0010" + "0003"), query);
        Assert.Equal(0, query[2] & 0x01); // RD is the low bit of the third byte
    }

    [Fact]
    public void BuildTcp_VersionBind_TwoByteLengthThenTheQuery()
    {
        var framed = DnsQuery.BuildTcp(7, DnsQuery.VersionBind);

        Assert.Equal(framed.Length - 2, (framed[0] << 8) | framed[1]);
        Assert.Equal(DnsQuery.Build(7, DnsQuery.VersionBind), framed[2..]);
    }
}
