using ExposureIndex.Query;

namespace ExposureIndex.Query.Tests;

public sealed class FilterCatalogTests
{
    // The filter names the brief requires, spelt exactly as Shodan spells them.
    private static readonly string[] RequiredNames =
    [
        "port", "ip", "net", "product", "version", "hostname", "domain", "transport", "hash", "os", "country", "city",
        "region", "asn", "org", "isp", "tag", "cpe", "has_ssl", "before", "after", "http.title", "http.status",
        "http.server", "http.html_hash", "http.favicon.hash", "ssl.cert.subject.cn", "ssl.cert.issuer.cn",
        "ssl.cert.serial", "ssl.cert.fingerprint", "ssl.cert.expired", "ssl.version", "ssl.cipher.name", "ssl.ja3s",
        "ssh.hassh", "ssh.type", "ssh.fingerprint", "module", "source",
    ];

    private static readonly string[] FacetableNames =
    [
        "port", "product", "version", "transport", "country", "city", "region", "asn", "org", "isp", "os", "tag", "cpe",
        "domain", "module", "http.title", "http.status", "http.server", "http.favicon.hash", "ssl.version",
        "ssl.cert.issuer.cn", "ssl.cert.subject.cn", "ssl.ja3s", "ssh.hassh", "ssh.type", "source",
    ];

    [Fact]
    public void Default_ListsExactlyTheRequiredFilters()
    {
        Assert.Equal(RequiredNames.Order(StringComparer.Ordinal), FilterCatalog.Default.FilterNames.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Default_FacetableSet_IsTheRequiredOne()
    {
        Assert.Equal(FacetableNames.Order(StringComparer.Ordinal), FilterCatalog.Default.FacetNames.Order(StringComparer.Ordinal));
        Assert.All(FilterCatalog.Default.Facets, f => Assert.True(f.Facetable));
    }

    [Fact]
    public void Default_EveryDefinitionIsComplete()
    {
        foreach (var filter in FilterCatalog.Default.Filters)
        {
            Assert.Equal(filter.Name.ToLowerInvariant(), filter.Name);
            Assert.NotEmpty(filter.Fields);
            Assert.Equal(filter.Fields[0], filter.Field);
            Assert.False(string.IsNullOrWhiteSpace(filter.Description), filter.Name);
            Assert.True(Enum.IsDefined(filter.Kind), filter.Name);

            // Every documented example parses: the catalog's own documentation cannot lie.
            var example = QueryParser.Parse(filter.Example);
            Assert.Equal([filter.Name], example.FilterNames);
        }
    }

    [Theory]
    [InlineData("port", FilterKind.Integer, "port")]
    [InlineData("ip", FilterKind.Network, "ip_str")]
    [InlineData("net", FilterKind.Network, "ip_str")]
    [InlineData("hostname", FilterKind.Keyword, "hostnames")]
    [InlineData("country", FilterKind.Keyword, "location.country_code")]
    [InlineData("org", FilterKind.Text, "org")]
    [InlineData("isp", FilterKind.Text, "isp")]
    [InlineData("has_ssl", FilterKind.Boolean, "ssl")]
    [InlineData("before", FilterKind.Date, "timestamp")]
    [InlineData("http.title", FilterKind.Text, "http.title")]
    [InlineData("http.server", FilterKind.Text, "http.server")]
    [InlineData("http.html_hash", FilterKind.Hash, "http.html_hash")]
    [InlineData("http.favicon.hash", FilterKind.Hash, "http.favicon.hash")]
    [InlineData("hash", FilterKind.Hash, "hash")]
    [InlineData("ssl.cert.subject.cn", FilterKind.Keyword, "ssl.cert.subject.CN")]
    [InlineData("ssl.version", FilterKind.Keyword, "ssl.versions")]
    [InlineData("module", FilterKind.Keyword, "_shodan.module")]
    [InlineData("cpe", FilterKind.Keyword, "cpe23")]
    public void Default_Definition_HasKindAndField(string name, FilterKind kind, string field)
    {
        Assert.True(FilterCatalog.Default.TryGet(name, out var filter));

        Assert.Equal(kind, filter.Kind);
        Assert.Equal(field, filter.Field);
    }

    [Fact]
    public void Default_SpecialMatchFlags_AreWhereShodanNeedsThem()
    {
        var flags = FilterCatalog.Default.Filters.ToDictionary(f => f.Name);

        Assert.True(flags["hostname"].SuffixMatch);
        Assert.True(flags["cpe"].PrefixMatch);
        Assert.True(flags["has_ssl"].TestsPresence);
        Assert.False(flags["ssl.cert.expired"].TestsPresence);
        Assert.Equal(FilterComparison.LessThan, flags["before"].Comparison);
        Assert.Equal(FilterComparison.GreaterThan, flags["after"].Comparison);
        Assert.True(flags["net"].RequiresPrefix);
        Assert.False(flags["ip"].RequiresPrefix);
        Assert.Equal(["ssl.cert.fingerprint.sha1", "ssl.cert.fingerprint.sha256"], flags["ssl.cert.fingerprint"].Fields);
        Assert.True(flags["ssh.fingerprint"].CaseSensitive);
        Assert.Equal(["tcp", "udp"], flags["transport"].AllowedValues);
        Assert.Equal(int.MinValue, flags["hash"].MinValue);
        Assert.Equal(int.MaxValue, flags["hash"].MaxValue);
        Assert.Equal(65535, flags["port"].MaxValue);
    }

    [Theory]
    [InlineData("PORT")]
    [InlineData("Port")]
    [InlineData("pOrT")]
    public void TryGet_AnyAsciiCase_Finds(string name)
    {
        Assert.True(FilterCatalog.Default.TryGet(name, out var filter));
        Assert.Equal("port", filter.Name);
    }

    [Theory]
    [InlineData("p\u0130rt")]
    [InlineData("ssl.c\u0131pher.name")]
    [InlineData("\u212Aey")]
    [InlineData("")]
    public void TryGet_NonAsciiLookalike_DoesNotFind(string name)
    {
        Assert.False(FilterCatalog.Default.TryGet(name, out _));
    }

    [Theory]
    [InlineData("prot", "port")]
    [InlineData("contry", "country")]
    [InlineData("prodcut", "product")]
    [InlineData("hostnames", "hostname")]
    [InlineData("http.titel", "http.title")]
    [InlineData("ssl.cert.fingerprnt", "ssl.cert.fingerprint")]
    [InlineData("i", null)]
    [InlineData("zzzzzz", null)]
    public void Suggest_Misspelling_GivesClosestName(string typed, string? expected)
    {
        Assert.Equal(expected, FilterCatalog.Default.Suggest(typed));
    }

    [Fact]
    public void Restrict_KeepsOnlyNamedFilters()
    {
        var restricted = FilterCatalog.Default.Restrict(["PORT", "country"]);

        Assert.Equal(["port", "country"], restricted.FilterNames);
        Assert.Throws<QueryException>(() => QueryParser.Parse("org:Google", restricted));
        Assert.Equal("port:22", QueryParser.Parse("port:22", restricted).Canonical);
    }

    [Theory]
    [InlineData("country", "us", "US")]
    [InlineData("asn", "15169", "AS15169")]
    [InlineData("product", "nginx*", "nginx*")]
    [InlineData("ip", "10.1.2.3/8", "10.0.0.0/8")]
    public void TryParseValue_Valid_NormalizesLikeTheParser(string name, string text, string expected)
    {
        Assert.True(FilterCatalog.Default.TryGet(name, out var filter));

        Assert.True(filter.TryParseValue(text, out var value, out var error));

        Assert.Null(error);
        Assert.Equal(expected, value.ToString());
    }

    [Fact]
    public void TryParseValue_Invalid_GivesReason()
    {
        Assert.True(FilterCatalog.Default.TryGet("port", out var filter));

        Assert.False(filter.TryParseValue("70000", out var value, out var error));

        Assert.Null(value);
        Assert.Equal("port must be between 0 and 65535", error);
    }
}
