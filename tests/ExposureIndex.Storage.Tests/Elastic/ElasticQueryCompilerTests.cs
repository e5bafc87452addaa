using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ExposureIndex.Query;
using ExposureIndex.Storage.Elastic;
using ExposureIndex.Storage.Fields;
using ExposureIndex.Storage.Tests.Conformance;

namespace ExposureIndex.Storage.Tests.Elastic;

public sealed class ElasticQueryCompilerTests
{
    [Fact]
    public void Fields_EveryCatalogFilter_HasAnElasticsearchField()
    {
        var missing = FilterCatalog.Default.Filters.Where(f => !ElasticFields.TryGet(f.Name, out _)).Select(f => f.Name).ToList();
        Assert.True(missing.Count == 0, "filters without an Elasticsearch field: " + string.Join(", ", missing));
        Assert.Equal(DocumentFields.All.Count, ElasticFields.All.Count);
    }

    [Fact]
    public void Fields_CaseSensitiveFilters_AreExactKeywords()
    {
        foreach (var filter in FilterCatalog.Default.Filters.Where(f => f.Kind == FilterKind.Keyword))
        {
            Assert.True(ElasticFields.TryGet(filter.Name, out var field));
            Assert.Equal(filter.CaseSensitive ? ElasticFieldType.ExactKeyword : ElasticFieldType.Keyword, field.Type);
        }
    }

    [Fact]
    public void Compile_FilterWithoutField_FailsClosed()
    {
        var compiler = new ElasticQueryCompiler(name => name == "port" && ElasticFields.TryGet(name, out var f) ? f : null);
        var error = Assert.Throws<StoreQueryException>(() => compiler.Compile(QueryParser.Parse("port:22 country:US").Root));
        Assert.Contains("'country'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BuildSearch_ScopeWithoutField_FailsClosedInsteadOfDroppingIt()
    {
        var compiler = new ElasticQueryCompiler(name => name == "port" && ElasticFields.TryGet(name, out var f) ? f : null);
        var request = new SearchRequest(QueryParser.Parse("port:22").Root, [], 0, 10, QueryParser.Parse("net:10.0.0.0/8").Root);
        var error = Assert.Throws<StoreQueryException>(() => compiler.BuildSearch(request));
        Assert.Contains("'net'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BuildSearch_Scope_IsAFilterBesideTheQueryAndTheLiveFlag()
    {
        var request = new SearchRequest(QueryParser.Parse("product:nginx").Root, [], 0, 10, QueryParser.Parse("net:8.8.4.0/24").Root);
        var filters = ElasticQueryCompiler.Default.BuildSearch(request)["query"]!["bool"]!["filter"]!.AsArray();
        Assert.Equal(3, filters.Count);
        Assert.Equal("""{"term":{"live":true}}""", filters[0]!.ToJsonString());
        Assert.Equal("""{"term":{"ip":"8.8.4.0/24"}}""", filters[1]!.ToJsonString());
        Assert.Equal("""{"term":{"product":"nginx"}}""", filters[2]!.ToJsonString());
    }

    [Fact]
    public void BuildSearch_DeepOffset_StillCompilesFromAndSize()
    {
        // The store switches to search_after itself; the compiler only states the page.
        var body = ElasticQueryCompiler.Default.BuildSearch(new SearchRequest(MatchAllNode.Instance, [], 20_000, 10));
        Assert.Equal(20_000, body["from"]!.GetValue<int>());
        Assert.Equal("""[{"seq":"desc"},{"key":"asc"}]""", body["sort"]!.ToJsonString());
    }

    [Fact]
    public void Compile_HostnameSuffix_IsTermOrEscapedWildcard()
    {
        var compiled = ElasticQueryCompiler.Default.Compile(QueryParser.Parse("hostname:dns.google").Root);
        Assert.Equal(
            """{"bool":{"should":[{"term":{"hostnames":"dns.google"}},{"wildcard":{"hostnames":{"value":"*.dns.google","case_insensitive":true}}}],"minimum_should_match":1}}""",
            compiled.ToJsonString());
        Assert.Equal(@"a\*b\?c\\d", ElasticQueryCompiler.EscapeWildcard(@"a*b?c\d"));
    }

    [Fact]
    public void Compile_Integer_IsATermOnTheIntegerField()
    {
        var node = QueryParser.Parse("port:22").Root;
        Assert.Equal("""{"term":{"port":22}}""", ElasticQueryCompiler.Default.Compile(node).ToJsonString());
    }

    [Fact]
    public void Compile_Phrase_UsesTheTokenizerWords()
    {
        var compiled = ElasticQueryCompiler.Default.Compile(QueryParser.Parse("\"Apache/2.4.57 (Debian)\"").Root);
        Assert.Equal("""{"match_phrase":{"data":{"query":"apache 2 4 57 debian"}}}""", compiled.ToJsonString());
    }

    [Fact]
    public void ReadFacets_CaseFoldedBuckets_UseTheStoredSpellingAndEmbeddedTieOrder()
    {
        var facets = FacetParser.Parse("product:2,port:2,tag:1");
        var aggregations = JsonNode.Parse("""
            {
              "product": { "buckets": [
                { "key": "apache httpd", "doc_count": 3, "spelling": { "buckets": [ { "key": "Apache httpd", "doc_count": 2 }, { "key": "apache HTTPD", "doc_count": 1 } ] } },
                { "key": "nginx", "doc_count": 1, "spelling": { "buckets": [ { "key": "nginx", "doc_count": 1 } ] } },
                { "key": "zeta", "doc_count": 1, "spelling": { "buckets": [ { "key": "Zeta", "doc_count": 1 } ] } } ] },
              "port": { "buckets": [
                { "key": "22", "doc_count": 1 }, { "key": "443", "doc_count": 1 }, { "key": "80", "doc_count": 2 } ] },
              "tag": { "buckets": [
                { "key": "database", "doc_count": 1, "spelling": { "buckets": [ { "key": "cloud", "doc_count": 1 }, { "key": "Database", "doc_count": 1 } ] } } ] }
            }
            """)!.AsObject();
        var result = ElasticQueryCompiler.ReadFacets(facets, aggregations);

        // Ties ordered by label, ordinal (upper case first), as the embedded store orders them.
        Assert.Equal([new FacetBucket("Apache httpd", 3), new FacetBucket("Zeta", 1)], result["product"]);
        Assert.Equal([new FacetBucket("80", 2), new FacetBucket("22", 1)], result["port"]);

        // A multi-valued document's other values in the sub-aggregation are not taken as the label.
        Assert.Equal([new FacetBucket("Database", 1)], result["tag"]);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nServer: nginx/1.22.1")]
    [InlineData("Straße ÉCOLE naïve café")]
    [InlineData("日本語テキスト and 中文, mixed123numbers_under_score")]
    [InlineData("e\u0301t\u00e9 combining marks \u0915\u093F hindi")]
    [InlineData("emoji 😀 between words; tabs\tand\u00a0nbsp")]
    [InlineData("a-very-long-word-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa end")]
    public void Analyzer_SplitPatternTruncateLowercase_ReproducesTheTokenizer(string text)
    {
        // What the index template's analyzer does, step by step, with the same pattern (Java and .NET agree on
        // \p{L}, \p{N} and \p{M}): split, cut each word to 64 UTF-16 units, lower-case.
        var words = Regex.Split(text, TextTokenizer.ElasticsearchSplitPattern)
            .Where(w => w.Length > 0)
            .Select(w => w.Length > TextTokenizer.MaxWordLength ? w[..TextTokenizer.MaxWordLength] : w)
            .Select(w => w.ToLowerInvariant())
            .ToList();
        Assert.Equal(TextTokenizer.Tokenize(text), words);
    }

    [Fact]
    public void Documents_ConformanceFixtures_OnlyUseMappedFields()
    {
        var properties = ElasticMappings.RecordProperties();
        foreach (var record in ConformanceFixtures.All())
        {
            var doc = ElasticDocuments.RecordFields(record);
            foreach (var path in LeafPaths(doc, string.Empty))
            {
                Assert.True(IsMapped(properties, path), $"document field '{path}' is not in the mapping");
            }
        }
    }

    [Fact]
    public void Documents_FilterFields_HoldTheNormalizedValuesOfDocumentFields()
    {
        var tls = ConformanceFixtures.All()[1];
        var doc = ElasticDocuments.RecordFields(tls);
        Assert.Equal("1000", doc["ssl"]!["cert"]!["serial"]!.GetValue<string>());
        Assert.Equal("""["0123456789abcdef0123456789abcdef01234567","aa00000000000000000000000000000000000000000000000000000000000000"]""", doc["ssl"]!["cert"]!["fingerprint"]!.ToJsonString());
        Assert.Equal("""["TLSv1.2","TLSv1.3"]""", doc["ssl"]!["versions"]!.ToJsonString());
        Assert.True(doc["has_ssl"]!.GetValue<bool>());
        Assert.Equal("US", doc["location"]!["country_code"]!.GetValue<string>());
        Assert.Equal("active", doc["source"]!.GetValue<string>());
        Assert.Equal("8.8.4.4", doc["ip"]!.GetValue<string>());
        Assert.Equal("8.8.4.4:443/tcp", ElasticDocuments.KeyOf(tls));
        Assert.Equal("exposure-observations-2026.03", ElasticDocuments.ObservationIndex("exposure", tls));
    }

    [Fact]
    public void Documents_Ipv4MappedAddress_IsStoredAsIpv4()
    {
        var record = ConformanceFixtures.Record("::ffff:192.0.2.7", 80, "x");
        Assert.Equal("192.0.2.7:80/tcp", ElasticDocuments.KeyOf(record));
        Assert.Equal("192.0.2.7", ElasticDocuments.RecordFields(record)["ip"]!.GetValue<string>());
    }

    private static IEnumerable<string> LeafPaths(JsonObject obj, string prefix)
    {
        foreach (var (name, value) in obj)
        {
            var path = prefix + name;
            if (value is JsonObject child && path is not ("location.geo" or "protocols" or "opts"))
            {
                foreach (var leaf in LeafPaths(child, path + "."))
                {
                    yield return leaf;
                }
            }
            else
            {
                yield return path;
            }
        }
    }

    private static bool IsMapped(JsonObject properties, string path)
    {
        JsonNode? node = properties;
        var parts = path.Split('.');
        for (var i = 0; i < parts.Length; i++)
        {
            node = node?[parts[i]];
            if (node is null)
            {
                return false;
            }

            if (i < parts.Length - 1)
            {
                node = node["properties"];
            }
        }

        return node?["type"] is not null;
    }
}
