using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using ExposureIndex.SearchApi.Ui;
using ExposureIndex.TestCommon;

namespace ExposureIndex.SearchApi.Tests.Ui;

public sealed partial class SearchUiEndpointsTests : IAsyncLifetime
{
    private UiServer? _server;

    private UiServer Server => _server!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Version => UiAssetCatalog.Embedded.Version;

    private static string WwwRoot => Path.Combine(RepoPaths.Root, "src", "SearchApi", "ExposureIndex.SearchApi", "Ui", "wwwroot");

    public async ValueTask InitializeAsync() => _server = await UiServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Root_WithoutKey_ServesIndexWithStrictCspAndRevalidation()
    {
        using var client = Server.Client();
        using var response = await client.GetAsync("/", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.True(response.Headers.CacheControl?.NoCache);
        Assert.NotNull(response.Headers.ETag);
        AssertSecurityHeaders(response);

        var html = await response.Content.ReadAsStringAsync(Ct);
        Assert.Contains($"<script type=\"module\" src=\"/ui/{Version}/app.js\"></script>", html, StringComparison.Ordinal);
        Assert.DoesNotContain(UiAssetCatalog.AssetBasePlaceholder, html, StringComparison.Ordinal);
        Assert.DoesNotContain(UiServer.Key, html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Csp_Header_ForbidsInlineScriptEvalFramingAndHtmlSinks()
    {
        using var client = Server.Client();
        using var response = await client.GetAsync("/", Ct);
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        var directives = csp.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(d => d.Split(' ', 2))
            .ToDictionary(d => d[0], d => d.Length > 1 ? d[1] : string.Empty, StringComparer.Ordinal);
        Assert.Equal("'none'", directives["default-src"]);
        Assert.Equal("'self'", directives["script-src"]);
        Assert.Equal("'self'", directives["style-src"]);
        Assert.Equal("'self'", directives["connect-src"]);
        Assert.Equal("'none'", directives["frame-ancestors"]);
        Assert.Equal("'none'", directives["base-uri"]);
        Assert.Equal("'script'", directives["require-trusted-types-for"]);
        Assert.Equal("'none'", directives["trusted-types"]);
        Assert.DoesNotContain("unsafe", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("http:", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("https:", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("*", csp, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryWwwRootFile_IsServedVersionedWithItsContentType()
    {
        var files = Directory.GetFiles(WwwRoot).Select(Path.GetFileName).OfType<string>().Where(f => f != UiAssetCatalog.IndexName).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(files);
        Assert.Equal(files, UiAssetCatalog.Embedded.Names.Order(StringComparer.Ordinal));

        using var client = Server.Client();
        foreach (var file in files)
        {
            using var response = await client.GetAsync($"/ui/{Version}/{file}", Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var expectedType = Path.GetExtension(file) switch
            {
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                var other => throw new InvalidOperationException($"no expectation for {other} ({file})"),
            };
            Assert.Equal(expectedType, response.Content.Headers.ContentType?.ToString());
            Assert.Null(response.Content.Headers.ContentEncoding.FirstOrDefault());
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(WwwRoot, file), Ct), await response.Content.ReadAsByteArrayAsync(Ct));
            Assert.True(response.Headers.CacheControl?.Public);
            Assert.Equal(TimeSpan.FromDays(365), response.Headers.CacheControl?.MaxAge);
            Assert.Contains("immutable", response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
            AssertSecurityHeaders(response);
        }
    }

    [Fact]
    public async Task Asset_IfNoneMatchWithItsETag_Is304WithoutBody()
    {
        using var client = Server.Client();
        using var first = await client.GetAsync($"/ui/{Version}/app.js", Ct);
        var etag = first.Headers.ETag!;
        Assert.False(etag.IsWeak);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/ui/{Version}/app.js");
        request.Headers.IfNoneMatch.Add(etag);
        using var second = await client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Empty(await second.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal(etag, second.Headers.ETag);

        using var index = await client.GetAsync("/", Ct);
        using var revalidate = new HttpRequestMessage(HttpMethod.Get, "/");
        revalidate.Headers.TryAddWithoutValidation("If-None-Match", "\"other\", W/" + index.Headers.ETag!.Tag);
        using var notModified = await client.SendAsync(revalidate, Ct);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        using var stale = new HttpRequestMessage(HttpMethod.Get, "/");
        stale.Headers.TryAddWithoutValidation("If-None-Match", "\"0123\"");
        using var changed = await client.SendAsync(stale, Ct);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
    }

    [Theory]
    [InlineData("br", "br")]
    [InlineData("gzip, deflate", "gzip")]
    [InlineData("gzip;q=1, br;q=0", "gzip")]
    [InlineData("*", "br")]
    [InlineData("identity", null)]
    public async Task Asset_AcceptEncoding_ServesACodingThatDecodesToTheFile(string acceptEncoding, string? expected)
    {
        using var client = Server.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/ui/{Version}/app.css");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        using var response = await client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, response.Content.Headers.ContentEncoding.SingleOrDefault());
        Assert.Contains("Accept-Encoding", response.Headers.Vary);
        var body = await response.Content.ReadAsByteArrayAsync(Ct);
        var original = await File.ReadAllBytesAsync(Path.Combine(WwwRoot, "app.css"), Ct);
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        Assert.Equal(original, Decode(body, expected));
        if (expected is not null)
        {
            Assert.True(body.Length < original.Length / 2, $"{expected} gave {body.Length} bytes for {original.Length}");
            Assert.EndsWith(expected == "br" ? "-br\"" : "-gz\"", response.Headers.ETag!.Tag, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("/ui/{v}/nope.js")]
    [InlineData("/ui/{v}/index.html")]
    [InlineData("/ui/{v}/UiAssets.resx")]
    [InlineData("/ui/{v}/APP.JS")]
    [InlineData("/ui/0000000000000000/app.js")]
    [InlineData("/ui/app.js")]
    [InlineData("/ui/")]
    [InlineData("/ui/{v}/a/b/app.js")]
    public async Task UnknownAsset_Get_Is404WithoutCaching(string path)
    {
        using var client = Server.Client();
        using var response = await client.GetAsync(path.Replace("{v}", Version, StringComparison.Ordinal), Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore);
        AssertSecurityHeaders(response);
    }

    [Theory]
    [InlineData("/ui/{v}/../../../../../../etc/passwd")]
    [InlineData("/ui/{v}/..%2F..%2F..%2F..%2Fetc%2Fpasswd")]
    [InlineData("/ui/{v}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd")]
    [InlineData("/ui/{v}/..%5C..%5C..%5Cetc%5Cpasswd")]
    [InlineData("/ui/{v}/%2e%2e%2fExposureIndex.SearchApi.dll")]
    [InlineData("/ui/..%2F{v}/app.js")]
    [InlineData("/ui/{v}/app.js%00.png")]
    [InlineData("/ui/{v}/./app.css/..%2f..%2fUiAssets.resx")]
    [InlineData("/ui/{v}//etc/passwd")]
    public async Task Traversal_RawRequestTargets_NeverReachAFile(string target)
    {
        var (status, response) = await Server.RawGetAsync(target.Replace("{v}", Version, StringComparison.Ordinal), Ct);
        // Kestrel may reject a malformed target outright (400); otherwise routing finds no asset (404).
        Assert.True(status is 404 or 400, $"{target} answered {status}");
        Assert.DoesNotContain("root:", response, StringComparison.Ordinal);
        Assert.DoesNotContain("MZ", response.Split("\r\n\r\n", 2).ElementAtOrDefault(1) ?? string.Empty, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IndexAndAssets_NeedNoKey_ButDataCallsDo()
    {
        using var client = Server.Client();
        foreach (var path in new[] { "/", $"/ui/{Version}/app.js", $"/ui/{Version}/app.css" })
        {
            using var ui = await client.GetAsync(path, Ct);
            Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        }

        foreach (var path in new[] { "/shodan/host/search?query=port:80", "/shodan/host/count?query=", "/shodan/host/search/filters", "/shodan/host/198.51.100.7", "/tools/myip", "/api/v1/export?query=port:80" })
        {
            using var anonymous = await client.GetAsync(path, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

            // The UI sends the key in a header so that it never sits in a URL; the API must keep accepting it.
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("X-Api-Key", UiServer.Key);
            using var keyed = await client.SendAsync(request, Ct);
            Assert.True(keyed.StatusCode == HttpStatusCode.OK, $"{path}: {keyed.StatusCode} {await keyed.Content.ReadAsStringAsync(Ct)}");
        }

        using var search = new HttpRequestMessage(HttpMethod.Get, "/shodan/host/search?query=port:80&minify=true&facets=" + Uri.EscapeDataString("port:8,product:8"));
        search.Headers.Add("X-Api-Key", UiServer.Key);
        using var found = await client.SendAsync(search, Ct);
        Assert.Contains("\"198.51.100.7\"", await found.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Head_RootAndAsset_ReturnHeadersWithoutBody()
    {
        using var client = Server.Client();
        foreach (var path in new[] { "/", $"/ui/{Version}/app.js" })
        {
            using var get = await client.GetAsync(path, Ct);
            using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path), Ct);
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(get.Content.Headers.ContentLength, head.Content.Headers.ContentLength);
            Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
            Assert.Equal(get.Headers.ETag, head.Headers.ETag);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync(Ct));
        }
    }

    [Fact]
    public async Task Post_Root_IsNotAccepted()
    {
        using var client = Server.Client();
        using var response = await client.PostAsync("/", new StringContent("x", Encoding.UTF8), Ct);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Fact]
    public async Task IndexHtml_PreloadsEveryModuleAndLinksOnlyVersionedAssets()
    {
        using var client = Server.Client();
        var html = await client.GetStringAsync("/", Ct);
        var modules = UiAssetCatalog.Embedded.Names.Where(n => n.EndsWith(".js", StringComparison.Ordinal) && n != "app.js").ToList();
        foreach (var module in modules)
        {
            Assert.Contains($"<link rel=\"modulepreload\" href=\"/ui/{Version}/{module}\">", html, StringComparison.Ordinal);
        }

        foreach (Match link in AssetReference().Matches(html))
        {
            var path = link.Groups["path"].Value;
            Assert.StartsWith($"/ui/{Version}/", path, StringComparison.Ordinal);
            Assert.True(UiAssetCatalog.Embedded.TryGet(path[$"/ui/{Version}/".Length..], out _), $"index.html names {path}, which is not an asset");
        }
    }

    private static void AssertSecurityHeaders(HttpResponseMessage response)
    {
        Assert.Equal(UiHeaders.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
    }

    private static byte[] Decode(byte[] body, string? coding)
    {
        if (coding is null)
        {
            return body;
        }

        using var input = new MemoryStream(body);
        using Stream decoder = coding == "br" ? new BrotliStream(input, CompressionMode.Decompress) : new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        decoder.CopyTo(output);
        return output.ToArray();
    }

    [GeneratedRegex("(?:src|href)=\"(?<path>[^\"#]+)\"")]
    private static partial Regex AssetReference();
}
