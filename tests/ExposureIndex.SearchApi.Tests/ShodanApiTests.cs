using System.Net;
using System.Text.Json;
using ExposureIndex.SearchApi.Tests.Support;

namespace ExposureIndex.SearchApi.Tests;

public sealed class ShodanApiTests : IAsyncLifetime
{
    private ApiServer? _server;

    private ApiServer Server => _server!;

    public async ValueTask InitializeAsync() => _server = await ApiServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("/shodan/host/search?query=port:80")]
    [InlineData("/shodan/host/198.51.100.10")]
    [InlineData("/api-info")]
    public async Task AnyEndpoint_WithoutKey_Is401WithJsonError(string path)
    {
        using var client = Server.Client();
        using var response = await client.GetAsync(path, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = await ErrorOf(response);
        Assert.Contains("API key", error, StringComparison.Ordinal);

        using var wrong = await client.GetAsync(path + (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "key=not-the-key", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("Invalid API key.", await ErrorOf(wrong));
    }

    [Fact]
    public async Task Search_Query_ReturnsShodanShapeWithFacets()
    {
        using var doc = await GetJson("/shodan/host/search?query=port:80,22&facets=product,port:1,country");
        var root = doc.RootElement;
        Assert.Equal(3, root.GetProperty("total").GetInt32());
        var matches = root.GetProperty("matches").EnumerateArray().ToList();
        Assert.Equal(3, matches.Count);
        var nginx = matches.Single(m => m.GetProperty("port").GetInt32() == 80 && m.GetProperty("ip_str").GetString() == "198.51.100.10");
        Assert.Equal("nginx", nginx.GetProperty("product").GetString());
        Assert.Equal("1.22.1", nginx.GetProperty("version").GetString());
        Assert.Equal("tcp", nginx.GetProperty("transport").GetString());
        Assert.Equal(3325256714u, nginx.GetProperty("ip").GetUInt32());
        Assert.Equal("US", nginx.GetProperty("location").GetProperty("country_code").GetString());
        Assert.Equal(200, nginx.GetProperty("http").GetProperty("status").GetInt32());
        Assert.Equal("2026-04-01T10:00:00.000000", nginx.GetProperty("timestamp").GetString());

        var facets = root.GetProperty("facets");
        Assert.Equal(80, facets.GetProperty("port")[0].GetProperty("value").GetInt32());
        Assert.Equal(2, facets.GetProperty("port")[0].GetProperty("count").GetInt32());
        Assert.Single(facets.GetProperty("port").EnumerateArray());
        Assert.Equal("US", facets.GetProperty("country")[0].GetProperty("value").GetString());
    }

    [Fact]
    public async Task Search_Pages_Hold100AndPartitionTheResults()
    {
        var seen = new HashSet<string>();
        for (var page = 1; page <= 3; page++)
        {
            using var doc = await GetJson($"/shodan/host/search?query=product:bulk&page={page}");
            Assert.Equal(250, doc.RootElement.GetProperty("total").GetInt32());
            var matches = doc.RootElement.GetProperty("matches").EnumerateArray().ToList();
            Assert.Equal(page < 3 ? 100 : 50, matches.Count);
            foreach (var m in matches)
            {
                Assert.True(seen.Add(m.GetProperty("ip_str").GetString() + ":" + m.GetProperty("port").GetInt32()));
            }
        }

        using var limited = await GetJson("/shodan/host/search?query=product:bulk&limit=10&offset=245");
        Assert.Equal(5, limited.RootElement.GetProperty("matches").GetArrayLength());
    }

    [Fact]
    public async Task Count_ReturnsTotalAndFacetsWithoutMatches()
    {
        using var doc = await GetJson("/shodan/host/count?query=country:US&facets=version:2");
        Assert.Equal(252, doc.RootElement.GetProperty("total").GetInt32());
        Assert.Equal(0, doc.RootElement.GetProperty("matches").GetArrayLength());
        Assert.Equal(2, doc.RootElement.GetProperty("facets").GetProperty("version").GetArrayLength());
    }

    [Fact]
    public async Task Host_KnownIp_ReturnsHostObject()
    {
        using var doc = await GetJson("/shodan/host/198.51.100.10");
        var root = doc.RootElement;
        Assert.Equal("198.51.100.10", root.GetProperty("ip_str").GetString());
        Assert.Equal([22, 80], root.GetProperty("ports").EnumerateArray().Select(p => p.GetInt32()));
        Assert.Equal("US", root.GetProperty("country_code").GetString());
        Assert.Equal("Austin", root.GetProperty("city").GetString());
        Assert.Equal("AS64500", root.GetProperty("asn").GetString());
        Assert.Equal(["www.example.com"], root.GetProperty("hostnames").EnumerateArray().Select(h => h.GetString()));
        Assert.Equal(2, root.GetProperty("data").GetArrayLength());
        Assert.Equal("2026-04-01T10:00:00.000000", root.GetProperty("last_update").GetString());
    }

    [Fact]
    public async Task Host_History_ReturnsEveryObservation()
    {
        using var doc = await GetJson("/shodan/host/198.51.100.10?history=true");
        var versions = doc.RootElement.GetProperty("data").EnumerateArray()
            .Where(b => b.GetProperty("port").GetInt32() == 22)
            .Select(b => b.GetProperty("version").GetString())
            .ToList();
        Assert.Equal(["9.2p1", "9.0p1"], versions);
    }

    [Fact]
    public async Task Host_Minify_OmitsBanners()
    {
        using var doc = await GetJson("/shodan/host/198.51.100.10?minify=true");
        Assert.False(doc.RootElement.TryGetProperty("data", out _));
        Assert.Equal(2, doc.RootElement.GetProperty("ports").GetArrayLength());
    }

    [Fact]
    public async Task Host_UnknownIp_Is404WithShodanMessage()
    {
        using var client = Server.Client();
        using var response = await client.GetAsync($"/shodan/host/192.0.2.99?key={ApiServer.Key}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("No information available for that IP.", await ErrorOf(response));
    }

    [Theory]
    [InlineData("/shodan/host/search?query=prot:80", "unknown filter 'prot' at position 0 (did you mean 'port'?)")]
    [InlineData("/shodan/host/search?query=port:80%20net:10.0.0.0/33", "net")]
    [InlineData("/shodan/host/search?query=port:80&page=0", "page must be a whole number")]
    [InlineData("/shodan/host/search?query=port:80&page=abc", "page must be a whole number")]
    [InlineData("/shodan/host/search?query=port:80&page=50", "beyond the 1,000-result window")]
    [InlineData("/shodan/host/count?query=port:80&facets=nosuch", "nosuch")]
    [InlineData("/shodan/host/not-an-ip", "is not an IP address")]
    public async Task BadInput_Is400NamingTheProblem(string path, string expected)
    {
        using var client = Server.Client();
        var separator = path.Contains('?', StringComparison.Ordinal) ? "&" : "?";
        using var response = await client.GetAsync(path + separator + "key=" + ApiServer.Key, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await ErrorOf(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadQuery_ErrorCarriesPosition()
    {
        using var client = Server.Client();
        using var response = await client.GetAsync($"/shodan/host/count?key={ApiServer.Key}&query=" + Uri.EscapeDataString("port:22 product:\"unterminated"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(16, doc.RootElement.GetProperty("position").GetInt32());
    }

    [Fact]
    public async Task FiltersFacetsAndTokens_DescribeTheLanguage()
    {
        using var filters = await GetJson("/shodan/host/search/filters");
        var names = filters.RootElement.EnumerateArray().Select(f => f.GetString()).ToList();
        Assert.Contains("port", names);
        Assert.Contains("ssl.cert.subject.cn", names);
        using var facets = await GetJson("/shodan/host/search/facets");
        Assert.Contains("country", facets.RootElement.EnumerateArray().Select(f => f.GetString()));
        using var tokens = await GetJson("/shodan/host/search/tokens?query=" + Uri.EscapeDataString("apache port:80,443 country:DE"));
        Assert.Equal([80, 443], tokens.RootElement.GetProperty("attributes").GetProperty("ports").EnumerateArray().Select(p => p.GetInt32()));
        Assert.Equal("apache", tokens.RootElement.GetProperty("string").GetString());
    }

    [Fact]
    public async Task Export_StreamsNdjsonBanners()
    {
        using var client = Server.Client();
        var body = await client.GetStringAsync($"/api/v1/export?key={ApiServer.Key}&query=product:bulk", TestContext.Current.CancellationToken);
        var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(250, lines.Length);
        Assert.All(lines, l => Assert.Equal("bulk", JsonDocument.Parse(l).RootElement.GetProperty("product").GetString()));
    }

    [Fact]
    public async Task RandomParameters_NeverAnswer500()
    {
        // Hostile and malformed input must end in a precise 4xx, never a 5xx (seeded, bounded).
        var random = new Random(20261121);
        string[] pieces = ["port:", "80", "\"", "-", ",", "net:", "1.2.3.4/", "999", "hash:-", "before:", "31/02/2024", "\\", "%", "*", "product:", "http.title:", " ", "\u0000", "ß", "ssl.cert.serial:0x", "asn:", "city:\"a,b\""];
        using var client = Server.Client();
        for (var i = 0; i < 300; i++)
        {
            var query = string.Concat(Enumerable.Range(0, random.Next(1, 8)).Select(_ => pieces[random.Next(pieces.Length)]));
            var facets = random.Next(3) == 0 ? "&facets=" + Uri.EscapeDataString(pieces[random.Next(pieces.Length)] + ":" + random.Next(-5, 2000)) : string.Empty;
            var page = random.Next(4) == 0 ? "&page=" + Uri.EscapeDataString(pieces[random.Next(pieces.Length)]) : string.Empty;
            var path = (random.Next(3) == 0 ? "/shodan/host/count" : "/shodan/host/search") + $"?key={ApiServer.Key}&query={Uri.EscapeDataString(query)}{facets}{page}";
            using var response = await client.GetAsync(path, TestContext.Current.CancellationToken);
            Assert.True((int)response.StatusCode < 500, $"{path} answered {(int)response.StatusCode}");
            if (response.StatusCode != HttpStatusCode.OK)
            {
                Assert.False(string.IsNullOrEmpty(await ErrorOf(response)));
            }
        }
    }

    private async Task<JsonDocument> GetJson(string path)
    {
        using var client = Server.Client();
        var separator = path.Contains('?', StringComparison.Ordinal) ? "&" : "?";
        using var response = await client.GetAsync(path + separator + "key=" + ApiServer.Key, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body);
    }

    private static async Task<string> ErrorOf(HttpResponseMessage response)
    {
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return doc.RootElement.GetProperty("error").GetString()!;
    }
}
