using ExposureIndex.Contracts.V1;
using ExposureIndex.Grabbers.Tests.Support;
using ExposureIndex.Grabbers.Tls;

namespace ExposureIndex.Grabbers.Tests.Tls;

public sealed class StartTlsParserTests
{
    [Theory]
    [InlineData("smtp-greeting.bin", (int)ReplyStyle.Numeric, 220, 1)]
    [InlineData("smtp-ehlo.bin", (int)ReplyStyle.Numeric, 250, 11)]
    [InlineData("ftp-greeting-multiline.bin", (int)ReplyStyle.Numeric, 220, 4)]
    [InlineData("imap-greeting.bin", (int)ReplyStyle.ImapGreeting, 0, 1)]
    [InlineData("imap-starttls-tagged.bin", (int)ReplyStyle.ImapTagged, 0, 2)]
    [InlineData("pop3-greeting.bin", (int)ReplyStyle.Pop3, 0, 1)]
    public void Feed_Reply_AllWaysCompleteOk(string fixture, int styleValue, int code, int lines)
    {
        var style = (ReplyStyle)styleValue;
        var bytes = ProtocolFixtures.Read("Tls", fixture);

        var reply = ParserFeeding.AllWays(() => new StartTlsParser(style), bytes, canonical: r => r.Canonical());
        ParserFeeding.PrefixesNeedMore(() => new StartTlsParser(style), bytes);

        Assert.True(reply.Ok);
        Assert.Equal(code, reply.Code);
        Assert.Equal(lines, reply.Lines.Count);
    }

    [Fact]
    public void Feed_EhloReply_ListsStartTls()
    {
        var reply = ParserFeeding.AllWays(() => new StartTlsParser(ReplyStyle.Numeric), ProtocolFixtures.Read("Tls", "smtp-ehlo.bin"), canonical: r => r.Canonical());

        Assert.Contains("250-STARTTLS", reply.Lines);
    }

    [Theory]
    [InlineData((int)ReplyStyle.Numeric, "554 5.7.1 go away\r\n", false, 554)]
    [InlineData((int)ReplyStyle.Pop3, "-ERR no TLS here\r\n", false, 0)]
    [InlineData((int)ReplyStyle.ImapTagged, "a001 NO [ALERT] not now\r\n", false, 0)]
    [InlineData((int)ReplyStyle.ImapGreeting, "* BYE too many connections\r\n", false, 0)]
    public void Feed_Refusal_CompleteNotOk(int style, string text, bool ok, int code)
    {
        var parser = new StartTlsParser((ReplyStyle)style);

        Assert.Equal(ParseStatus.Complete, parser.Feed(System.Text.Encoding.ASCII.GetBytes(text)));
        Assert.Equal(ok, parser.Result!.Ok);
        Assert.Equal(code, parser.Result.Code);
    }

    [Theory]
    [InlineData((int)ReplyStyle.Numeric, "SSH-2.0-OpenSSH_9.2\r\n", "not a numeric reply")]
    [InlineData((int)ReplyStyle.Pop3, "HTTP/1.1 400 Bad Request\r\n", "not a POP3 reply")]
    [InlineData((int)ReplyStyle.ImapGreeting, "220 smtp ready\r\n", "not an IMAP greeting")]
    [InlineData((int)ReplyStyle.ImapTagged, "garbage\r\n", "unexpected IMAP line")]
    public void Feed_WrongProtocol_InvalidWithReason(int style, string text, string reason)
    {
        var parser = new StartTlsParser((ReplyStyle)style);

        Assert.Equal(ParseStatus.Invalid, parser.Feed(System.Text.Encoding.ASCII.GetBytes(text)));
        Assert.Contains(reason, parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_EndlessLine_InvalidAtLineCap()
    {
        var parser = new StartTlsParser(ReplyStyle.Numeric);
        var status = parser.Feed("220-"u8);
        for (var i = 0; i < 100 && status == ParseStatus.NeedMore; i++)
        {
            status = parser.Feed(new byte[1000]);
        }

        Assert.Equal(ParseStatus.Invalid, status);
        Assert.Contains("exceeds", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_EndlessContinuationLines_InvalidAtLineCountCap()
    {
        var parser = new StartTlsParser(ReplyStyle.Numeric);
        var status = ParseStatus.NeedMore;
        for (var i = 0; i < 1000 && status == ParseStatus.NeedMore; i++)
        {
            status = parser.Feed("250-more\r\n"u8);
        }

        Assert.Equal(ParseStatus.Invalid, status);
        Assert.Contains("more than", parser.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, 25, false, (int)StartTlsProtocol.Smtp)]
    [InlineData(null, 587, false, (int)StartTlsProtocol.Smtp)]
    [InlineData(null, 143, false, (int)StartTlsProtocol.Imap)]
    [InlineData(null, 110, false, (int)StartTlsProtocol.Pop3)]
    [InlineData(null, 21, false, (int)StartTlsProtocol.Ftp)]
    [InlineData(null, 443, false, (int)StartTlsProtocol.None)]
    [InlineData("smtp", 2525, false, (int)StartTlsProtocol.Smtp)]
    [InlineData("imap", 10143, false, (int)StartTlsProtocol.Imap)]
    [InlineData("smtp", 465, true, (int)StartTlsProtocol.None)]
    [InlineData("https", 25, false, (int)StartTlsProtocol.None)]
    public void ModeFor_ServiceAndPort_Protocol(string? service, int port, bool tls, int expected)
    {
        var context = new GrabContext
        {
            Target = new GrabTarget(System.Net.IPAddress.Loopback, port, Transport.Tcp),
            Limits = GrabContexts.Short,
            Network = SocketGrabNetwork.Instance,
            Service = service,
            Tls = tls,
        };

        Assert.Equal((StartTlsProtocol)expected, StartTls.ModeFor(context));
    }
}
