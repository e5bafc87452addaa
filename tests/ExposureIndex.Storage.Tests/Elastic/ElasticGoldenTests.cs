using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using ExposureIndex.Query;
using ExposureIndex.Storage.Elastic;
using ExposureIndex.Storage.Tests.Conformance;
using ExposureIndex.TestCommon;

namespace ExposureIndex.Storage.Tests.Elastic;

/// <summary>
/// What the Elasticsearch store sends is pinned by committed golden files: the compiled _search bodies for the
/// conformance queries (plus facets, scope and a few extra shapes) and the index templates. A change shows up as a
/// reviewable diff: EXPOSUREINDEX_UPDATE_GOLDEN=1 dotnet test tests/ExposureIndex.Storage.Tests rewrites them.
/// </summary>
public sealed class ElasticGoldenTests
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, IndentSize = 2 };

    private static bool Update => Environment.GetEnvironmentVariable("EXPOSUREINDEX_UPDATE_GOLDEN") == "1";

    private static string GoldenDirectory => Path.Combine(RepoPaths.Root, "tests", "ExposureIndex.Storage.Tests", "Elastic", "Golden");

    /// <summary>Cases: a name and the request compiled.</summary>
    public static IReadOnlyList<(string Name, SearchRequest Request)> Cases()
    {
        var cases = new List<(string, SearchRequest)>();
        foreach (var (query, _) in ConformanceFixtures.Expectations())
        {
            cases.Add(("query " + (query.Length == 0 ? "(empty)" : query), new SearchRequest(QueryParser.Parse(query).Root, [], 0, 100)));
        }

        string[] extra =
        [
            "hostname:*.google",
            "product:\"nginx\\*\"",
            "-port:22 -nginx",
            "ssh.fingerprint:SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
            "hash:-1 http.title:\"Index of /\"",
            "port:22,80 country:US,DE product:ssh*,nginx",
            "after:2024-01-01T10:20:30.456Z before:31/12/2025",
            "net:0.0.0.0/0",
        ];
        foreach (var query in extra)
        {
            cases.Add(("query " + query, new SearchRequest(QueryParser.Parse(query).Root, [], 0, 100)));
        }

        cases.Add(("count with facets country:2,port,org:1", SearchRequest.CountOnly(MatchAllNode.Instance, FacetParser.Parse("country:2,port,org:1"))));
        cases.Add(("count http.status:200,403 with facets product,http.status", SearchRequest.CountOnly(QueryParser.Parse("http.status:200,403").Root, FacetParser.Parse("product,http.status"))));
        cases.Add(("facets on every kind: tag,cpe,asn,http.title,ssl.version,http.favicon.hash", SearchRequest.CountOnly(MatchAllNode.Instance, FacetParser.Parse("tag,cpe:3,asn,http.title,ssl.version,http.favicon.hash"))));
        cases.Add(("page 2 of product:nginx scoped to net:8.8.4.0/24", new SearchRequest(QueryParser.Parse("product:nginx").Root, [], 10, 10, QueryParser.Parse("net:8.8.4.0/24").Root)));
        cases.Add(("match-all scoped to country:US,DE", new SearchRequest(MatchAllNode.Instance, [], 0, 5, QueryParser.Parse("country:US,DE").Root)));
        return cases;
    }

    [Fact]
    public void Compiler_ConformanceQueriesAndMore_MatchGoldenJson()
    {
        var root = new JsonObject();
        foreach (var (name, request) in Cases())
        {
            root[name] = ElasticQueryCompiler.Default.BuildSearch(request);
        }

        CheckGolden("compiled-searches.json", root);
    }

    [Fact]
    public void Templates_DefaultOptions_MatchGoldenJson()
    {
        var root = new JsonObject();
        foreach (var (name, body) in ElasticMappings.Templates(new ElasticIndices("exposure"), ElasticStoreOptions.Default))
        {
            root[name] = body;
        }

        CheckGolden("index-templates.json", root);
    }

    private static void CheckGolden(string file, JsonObject actual)
    {
        var path = Path.Combine(GoldenDirectory, file);
        var text = actual.ToJsonString(Indented).ReplaceLineEndings("\n") + "\n";
        if (Update)
        {
            Directory.CreateDirectory(GoldenDirectory);
            File.WriteAllText(path, text);
            return;
        }

        Assert.True(File.Exists(path), $"golden file {path} is missing; create it deliberately with EXPOSUREINDEX_UPDATE_GOLDEN=1");
        var expected = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        foreach (var (name, node) in actual)
        {
            Assert.True(expected.ContainsKey(name), $"{file}: '{name}' is not in the golden file (EXPOSUREINDEX_UPDATE_GOLDEN=1 to record it)");
            var want = expected[name]!.ToJsonString(Indented);
            var got = node!.ToJsonString(Indented);
            Assert.True(want == got, $"{file}: '{name}' differs from the golden file.\nexpected:\n{want}\nactual:\n{got}");
        }

        Assert.Equal(expected.Select(e => e.Key), actual.Select(a => a.Key));
    }
}
