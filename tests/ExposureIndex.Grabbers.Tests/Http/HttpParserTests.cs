using System.Text;
using ExposureIndex.Grabbers.Http;
using ExposureIndex.Grabbers.Tests.Support;

namespace ExposureIndex.Grabbers.Tests.Http;

public sealed class HttpParserTests
{
    private static HttpResult ParseAllWays(string fixture, bool endOfStream = false, int maxBody = HttpParser.DefaultMaxBody)
        => ParserFeeding.AllWays(() => new HttpParser(maxBody), ProtocolFixtures.Read("Http", fixture), endOfStream, canonical: r => r.Canonical());

    [Theory]
    [InlineData("nginx-index.bin", 200, "nginx/")]
    [InlineData("nginx-404.bin", 404, "nginx/")]
    [InlineData("apache-index.bin", 200, "Apache/")]
    [InlineData("apache-404.bin", 404, "Apache/")]
    public void Feed_CapturedDaemonResponse_AllWaysSameResult(string fixture, int status, string serverPrefix)
    {
        var bytes = ProtocolFixtures.Read("Http", fixture);

        var result = ParseAllWays(fixture);

        Assert.Equal("HTTP/1.1", result.Version);
        Assert.Equal(status, result.Status);
        Assert.StartsWith(serverPrefix, result.Header("server"), StringComparison.Ordinal);
        Assert.Equal(int.Parse(result.Header("Content-Length")!, System.Globalization.CultureInfo.InvariantCulture), result.Body.Length);
        Assert.False(result.BodyTruncated);
        Assert.False(result.BodyIncomplete);
        // HeaderBlock + Body is the whole response: nothing lost, nothing invented.
        Assert.Equal(bytes, result.HeaderBlock.Concat(result.Body).ToArray());
        Assert.EndsWith("\r\n\r\n", Encoding.ASCII.GetString(result.HeaderBlock), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nginx-index.bin")]
    [InlineData("apache-404.bin")]
    [InlineData("chunked-trailers.bin")]
    public void Feed_EveryProperPrefix_NeedsMore(string fixture)
        => ParserFeeding.PrefixesNeedMore(() => new HttpParser(), ProtocolFixtures.Read("Http", fixture));

    [Fact]
    public void Feed_NginxIndex_TitleDecoded()
    {
        var result = ParseAllWays("nginx-index.bin");

        // The daemon HTML-encoded "Welcome &amp; hello" once more; one decode gives back the text it was given.
        Assert.Equal("Welcome &amp; hello", HtmlInspector.TryTitle(HtmlInspector.Decode(result.Body)));
    }

    [Fact]
    public void Feed_ChunkedWithExtensionsFoldAndTrailers_BodyDechunked()
    {
        var result = ParseAllWays("chunked-trailers.bin");

        Assert.Equal("<html><head><title>  Chunked &amp;\n Split </title></head>", Encoding.ASCII.GetString(result.Body));
        Assert.Equal("first second", result.Header("X-Folded"));
        Assert.Null(result.Header("X-Trailer"));
        Assert.Equal("Chunked & Split", HtmlInspector.TryTitle(Encoding.ASCII.GetString(result.Body)));
    }

    [Fact]
    public void Feed_CloseDelimitedBody_CompletesAtEnd()
    {
        var result = ParseAllWays("close-delimited.bin", endOfStream: true);

        Assert.Equal("HTTP/1.0", result.Version);
        Assert.Equal("<html><title>Directory listing for /</title></html>\n", Encoding.ASCII.GetString(result.Body));
        Assert.False(result.BodyIncomplete);
    }

    [Fact]
    public void Feed_InterimResponsesThen204_InterimSkippedNoBody()
    {
        var result = ParseAllWays("interim-then-204.bin");

        Assert.Equal(204, result.Status);
        Assert.Equal("No Content", result.Reason);
        Assert.Empty(result.Body);
        Assert.StartsWith("HTTP/1.1 204 No Content\r\n", Encoding.ASCII.GetString(result.HeaderBlock), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("garbage-ssh-banner.bin", "does not start with \"HTTP/\"")]
    [InlineData("garbage-random.bin", "does not start with \"HTTP/\"")]
    [InlineData("garbage-status-code.bin", "not three digits")]
    [InlineData("hostile-conflicting-length.bin", "invalid Content-Length")]
    [InlineData("hostile-bad-chunk-size.bin", "invalid chunk size")]
    [InlineData("hostile-endless-headers.bin", "more than 256 header fields")]
    [InlineData("hostile-huge-headers.bin", "header block exceeds")]
    [InlineData("hostile-long-line.bin", "an HTTP line exceeds")]
    public void Feed_MalformedOrHostile_InvalidWithReason(string fixture, string reason)
    {
        var parsers = ParserFeeding.InvalidWholeAndByteByByte(() => new HttpParser(), ProtocolFixtures.Read("Http", fixture), reason);

        Assert.All(parsers, parser => Assert.Null(parser.Result));
    }

    [Fact]
    public void Feed_BodyLongerThanCap_CompletesTruncatedAtCap()
    {
        var response = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + new string('x', 100));

        var result = ParserFeeding.AllWays(() => new HttpParser(maxBody: 10), response, canonical: r => r.Canonical());

        Assert.True(result.BodyTruncated);
        Assert.Equal(10, result.Body.Length);
    }

    [Fact]
    public void Feed_EndlessCloseDelimitedBody_CompletesAtCapWithoutEnd()
    {
        var parser = new HttpParser(maxBody: 1000);
        Assert.Equal(ParseStatus.NeedMore, parser.Feed("HTTP/1.1 200 OK\r\n\r\n"u8));
        var status = ParseStatus.NeedMore;
        for (var i = 0; i < 100 && status == ParseStatus.NeedMore; i++)
        {
            status = parser.Feed(new byte[100]);
        }

        Assert.Equal(ParseStatus.Complete, status);
        Assert.True(parser.Result!.BodyTruncated);
    }

    [Fact]
    public void End_ClosedBeforeAnnouncedLength_CompleteAndIncomplete()
    {
        var parser = new HttpParser();
        parser.Feed("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nabc"u8);

        Assert.Equal(ParseStatus.Complete, parser.End());
        Assert.True(parser.Result!.BodyIncomplete);
        Assert.Equal("abc"u8.ToArray(), parser.Result.Body);
    }

    [Fact]
    public void End_ClosedInsideHeaders_KeepsHeadersAsIncomplete()
    {
        var parser = new HttpParser();
        parser.Feed("HTTP/1.1 301 Moved\r\nLocation: /x\r\n"u8);

        Assert.Equal(ParseStatus.Complete, parser.End());
        Assert.Equal("/x", parser.Result!.Header("location"));
        Assert.True(parser.Result.BodyIncomplete);
    }

    [Fact]
    public void End_NothingReceived_InvalidWithReason()
    {
        var parser = new HttpParser();

        Assert.Equal(ParseStatus.Invalid, parser.End());
        Assert.Contains("without sending an HTTP response", parser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_HeadRequest_NoBodyDespiteContentLength()
    {
        var parser = new HttpParser(headRequest: true);

        Assert.Equal(ParseStatus.Complete, parser.Feed("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"u8));
        Assert.Empty(parser.Result!.Body);
    }

    [Fact]
    public void Feed_LfOnlyLineEnds_Parsed()
    {
        var parser = new HttpParser();

        Assert.Equal(ParseStatus.Complete, parser.Feed("HTTP/1.1 200 OK\nServer: thttpd/2.29\nContent-Length: 2\n\nok"u8));
        Assert.Equal("thttpd/2.29", parser.Result!.Header("Server"));
        Assert.Equal("ok"u8.ToArray(), parser.Result.Body);
    }
}
