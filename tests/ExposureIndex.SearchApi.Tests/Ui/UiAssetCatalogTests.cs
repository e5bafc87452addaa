using System.Text;
using ExposureIndex.SearchApi.Endpoints;
using ExposureIndex.SearchApi.Ui;
using Microsoft.Extensions.Primitives;

namespace ExposureIndex.SearchApi.Tests.Ui;

public sealed class UiAssetCatalogTests
{
    private static KeyValuePair<string, byte[]> File(string name, string text) => new(name, Encoding.UTF8.GetBytes(text));

    private static readonly KeyValuePair<string, byte[]> Index = File("index.html", "<script src=\"%ASSET_BASE%/app.js\"></script>");

    [Fact]
    public void Build_FillsTheAssetBaseAndKeepsIndexOutOfTheAssets()
    {
        var catalog = UiAssetCatalog.Build([Index, File("app.js", "1")]);
        Assert.Matches("^[0-9a-f]{16}$", catalog.Version);
        Assert.Equal($"<script src=\"/ui/{catalog.Version}/app.js\"></script>", Encoding.UTF8.GetString(catalog.Index.Identity));
        Assert.Equal(["app.js"], catalog.Names);
        Assert.False(catalog.TryGet("index.html", out _));
    }

    [Fact]
    public void Build_AnyFileChanges_ChangesTheVersion()
    {
        var a = UiAssetCatalog.Build([Index, File("app.js", "1"), File("app.css", "x")]);
        var b = UiAssetCatalog.Build([Index, File("app.js", "1"), File("app.css", "y")]);
        var c = UiAssetCatalog.Build([File("app.css", "x"), File("app.js", "1"), Index]);
        Assert.NotEqual(a.Version, b.Version);
        Assert.Equal(a.Version, c.Version);
    }

    [Theory]
    [InlineData("tool.exe", "extension")]
    [InlineData("../app.js", "plain file name")]
    [InlineData("a/b.js", "plain file name")]
    [InlineData(".hidden.js", "plain file name")]
    public void Build_UnservableFile_ThrowsNamingIt(string name, string reason)
    {
        var error = Assert.Throws<InvalidOperationException>(() => UiAssetCatalog.Build([Index, File(name, "x")]));
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_IndexWithoutPlaceholder_Throws()
    {
        var error = Assert.Throws<InvalidOperationException>(() => UiAssetCatalog.Build([File("index.html", "<p>")]));
        Assert.Contains("%ASSET_BASE%", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_IncompressibleOrTinyFiles_HaveNoCompressedForm()
    {
        var catalog = UiAssetCatalog.Build([Index, File("tiny.js", "1"), new("logo.png", [0x89, 0x50, 0x4e, 0x47])]);
        Assert.True(catalog.TryGet("tiny.js", out var tiny));
        Assert.Null(tiny.Brotli);
        Assert.Equal(tiny.Identity, tiny.Select(ContentCodings.Brotli | ContentCodings.Gzip).Body);
        Assert.True(catalog.TryGet("logo.png", out var png));
        Assert.Equal("image/png", png.ContentType);
        Assert.Null(png.Gzip);
    }

    [Fact]
    public void Embedded_LoadsEveryFileOfTheUi()
    {
        var catalog = UiAssetCatalog.Embedded;
        foreach (var name in new[] { "app.js", "app.css", "api.js", "dom.js", "query.js", "favicon.svg" })
        {
            Assert.True(catalog.TryGet(name, out var asset), name);
            Assert.NotEmpty(asset.Identity);
        }

        Assert.Contains("/ui/" + catalog.Version + "/app.js", Encoding.UTF8.GetString(catalog.Index.Identity), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", false, false)]
    [InlineData("gzip", true, false)]
    [InlineData("x-gzip", true, false)]
    [InlineData("gzip, deflate, br, zstd", true, true)]
    [InlineData("br;q=0, gzip;q=0.5", true, false)]
    [InlineData("*;q=0.1", true, true)]
    [InlineData("*, br;q=0", true, false)]
    [InlineData("identity", false, false)]
    [InlineData("GZIP;Q=1", true, false)]
    [InlineData(";;;", false, false)]
    public void Parse_AcceptEncoding_FollowsRfc9110(string header, bool gzip, bool brotli)
    {
        var accepted = ContentCodingNegotiation.Parse(new StringValues(header));
        Assert.Equal(gzip, accepted.HasFlag(ContentCodings.Gzip));
        Assert.Equal(brotli, accepted.HasFlag(ContentCodings.Brotli));
    }

    [Theory]
    [InlineData("\"abc\"", true)]
    [InlineData("W/\"abc\"", true)]
    [InlineData("\"x\", \"abc\"", true)]
    [InlineData("*", true)]
    [InlineData("\"abcd\"", false)]
    [InlineData("abc", false)]
    [InlineData("", false)]
    public void IfNoneMatchHits_UsesWeakComparison(string header, bool expected)
        => Assert.Equal(expected, SearchUiEndpoints.IfNoneMatchHits(new StringValues(header), "\"abc\""));
}
