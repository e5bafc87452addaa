using System.Text;
using ExposureIndex.Grabbers.Http;

namespace ExposureIndex.Grabbers.Tests.Http;

public sealed class HtmlInspectorTests
{
    [Theory]
    [InlineData("<html><head><title>Dashboard</title></head></html>", "Dashboard")]
    [InlineData("<TITLE lang=\"en\">\n   Router   Login\t&mdash; &#x41;dmin </TITLE>", "Router Login — Admin")]
    [InlineData("<title>Caf&eacute; &amp; Bar", "Café & Bar")]
    [InlineData("<titles>not it</titles><title>it</title>", "it")]
    [InlineData("<svg><title/></svg>", "")]
    public void TryTitle_Markup_DecodedCollapsedText(string html, string expected)
        => Assert.Equal(expected, HtmlInspector.TryTitle(html));

    [Fact]
    public void TryTitle_NoTitle_Null() => Assert.Null(HtmlInspector.TryTitle("<html><body>hi</body></html>"));

    [Fact]
    public void TryTitle_HugeTitle_CappedAtMax()
    {
        var title = HtmlInspector.TryTitle("<title>" + new string('a', 100_000) + "</title>");

        Assert.Equal(HtmlInspector.MaxTitleChars, title!.Length);
    }

    [Theory]
    [InlineData("<link rel=\"icon\" href=\"/static/fav.png\">", "/static/fav.png")]
    [InlineData("<LINK REL='shortcut icon' HREF='favicon.ico?v=2&amp;x=1'/>", "favicon.ico?v=2&x=1")]
    [InlineData("<link href=/i.ico rel=icon>", "/i.ico")]
    [InlineData("<link rel=\"apple-touch-icon\" href=\"/a.png\"><link rel=\"stylesheet\" href=\"/s.css\">", null)]
    [InlineData("<link rel=\"icon\">", null)]
    public void TryIconHref_LinkTags_FirstIconHref(string html, string? expected)
        => Assert.Equal(expected, HtmlInspector.TryIconHref(html));

    [Fact]
    public void Components_PoweredByCookiesGenerator_SortedNames()
    {
        var response = new HttpResult("HTTP/1.1", 200, "OK",
            [new("Server", "Apache/2.4.57 (Debian) OpenSSL/3.0.11"), new("X-Powered-By", "PHP/8.2.7"), new("Set-Cookie", "JSESSIONID=abc; Path=/")],
            [], [], false, false);
        const string html = "<meta name=\"generator\" content=\"WordPress 6.4.2\"><script src=\"/wp-includes/js/x.js\"></script>";

        Assert.Equal(["Java", "OpenSSL", "PHP", "WordPress"], HtmlInspector.Components(response, html));
    }

    [Fact]
    public void Decode_Latin1Body_EveryByteSurvives()
        => Assert.Equal("<title>Caf\u00e9</title>", HtmlInspector.Decode(Encoding.Latin1.GetBytes("<title>Caf\u00e9</title>")));
}
