using System.Net;
using System.Text.Json.Nodes;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Query;
using ExposureIndex.Storage.Elastic;
using ExposureIndex.Storage.Tests.Conformance;

namespace ExposureIndex.Storage.Tests.Elastic;

/// <summary>
/// The read paths' request sequences against a scripted server: search_after paging over a point in time (export
/// and deep pages), host views with history, the change feed. What the answers mean is the conformance suite's job
/// on a real cluster; here the point is that the store asks the right questions and follows the pages to the end.
/// </summary>
public sealed class ElasticReadPathTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly ElasticStoreOptions Options = new() { PageSize = 2, RetryBaseDelay = TimeSpan.FromMilliseconds(1), MaxAttempts = 2 };

    [Fact]
    public async Task Export_ThreeMatchesInPagesOfTwo_FollowsSearchAfterOverAPointInTimeAndClosesIt()
    {
        var hits = ConformanceFixtures.All().Take(3).Select((r, i) => Hit(r, sort: $"[{10 - i},\"k{i}\"]")).ToArray();
        await using var server = Cluster((request, body) => (request.Method, request.Path) switch
        {
            ("POST", "/exposure-services/_pit") => ScriptedResponse.Ok("""{"id":"pit-1"}"""),
            ("POST", "/_search") when body!["search_after"] is null => Page("pit-2", hits[0], hits[1]),
            ("POST", "/_search") => Page("pit-3", hits[2]),
            ("DELETE", "/_pit") => ScriptedResponse.Ok("""{"succeeded":true,"num_freed":1}"""),
            _ => null,
        });
        await using var store = await ElasticStore.OpenAsync(server.Url, Options, TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);

        var exported = new List<StoredService>();
        await foreach (var service in store.ExportAsync(QueryParser.Parse("country:US").Root, TestContext.Current.CancellationToken))
        {
            exported.Add(service);
        }

        Assert.Equal(ConformanceFixtures.All().Take(3), exported.Select(s => s.Record));
        var searches = server.Requests.Where(r => r.Path == "/_search").Select(r => JsonNode.Parse(r.Body)!).ToList();
        Assert.Equal(2, searches.Count);
        Assert.Equal("""{"id":"pit-1","keep_alive":"2m"}""", searches[0]["pit"]!.ToJsonString());
        Assert.Equal("""{"id":"pit-2","keep_alive":"2m"}""", searches[1]["pit"]!.ToJsonString());
        Assert.Equal("""[9,"k1"]""", searches[1]["search_after"]!.ToJsonString());
        Assert.Equal("""[{"seq":"desc"},{"key":"asc"}]""", searches[0]["sort"]!.ToJsonString());
        Assert.Contains("location.country_code", searches[0]["query"]!.ToJsonString(), StringComparison.Ordinal);
        var close = Assert.Single(server.Requests, r => r.Method == "DELETE");
        Assert.Equal("""{"id":"pit-3"}""", close.Body);
    }

    [Fact]
    public async Task Search_BeyondTheResultWindow_SkipsWithoutSourceThenReadsThePage()
    {
        var hit = Hit(ConformanceFixtures.All()[0], sort: "[5,\"k\"]");
        var skipped = string.Join(',', Enumerable.Range(0, 10_000).Select(i => $$"""{"_index":"exposure-services","_id":"s{{i}}","sort":[{{20_000 - i}},"s"]}"""));
        await using var server = Cluster((request, body) => (request.Method, request.Path) switch
        {
            ("POST", "/exposure-services/_search") => ScriptedResponse.Ok("""{"hits":{"total":{"value":10001,"relation":"eq"},"hits":[]}}"""),
            ("POST", "/exposure-services/_pit") => ScriptedResponse.Ok("""{"id":"pit"}"""),
            ("POST", "/_search") when body!["_source"] is JsonValue => ScriptedResponse.Ok("{\"pit_id\":\"pit\",\"hits\":{\"hits\":[" + skipped + "]}}"),
            ("POST", "/_search") => Page("pit", hit),
            ("DELETE", "/_pit") => ScriptedResponse.Ok("{}"),
            _ => null,
        });
        await using var store = await ElasticStore.OpenAsync(server.Url, Options, TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);

        var result = await store.SearchAsync(new SearchRequest(MatchAllNode.Instance, [], 10_000, 1), TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal(10_001, result.Total);
        Assert.Equal(ConformanceFixtures.All()[0], Assert.Single(result.Matches).Record);
        var pages = server.Requests.Where(r => r.Path == "/_search").Select(r => JsonNode.Parse(r.Body)!).ToList();
        Assert.Equal(2, pages.Count);
        Assert.Equal(10_000, pages[0]["size"]!.GetValue<int>());
        Assert.False(pages[0]["_source"]!.GetValue<bool>());
        Assert.Equal(1, pages[1]["size"]!.GetValue<int>());
        Assert.Equal("""[10001,"s"]""", pages[1]["search_after"]!.ToJsonString());
        Assert.Null(pages[1]["from"]);
    }

    [Fact]
    public async Task GetHost_WithHistory_ReadsLiveServicesAndEveryObservationNewestFirst()
    {
        var ssh = ConformanceFixtures.All()[2];
        var ftp = ConformanceFixtures.All()[3];
        var older = ssh.Clone();
        older.Timestamp = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(ConformanceFixtures.T0.AddDays(-3));
        await using var server = Cluster((request, body) => (request.Method, request.Path) switch
        {
            ("POST", "/exposure-services/_search") when body!["search_after"] is null => Page(null, Hit(ssh, "[22,\"a\"]"), Hit(ftp, "[21,\"b\"]")),
            ("POST", "/exposure-services/_search") => Page(null),
            ("POST", "/exposure-observations-*/_search") when body!["search_after"] is null => Page(null, Hit(older, "[1,22,\"x\"]"), Hit(ftp, "[2,21,\"y\"]")),
            ("POST", "/exposure-observations-*/_search") => Page(null),
            _ => null,
        });
        await using var store = await ElasticStore.OpenAsync(server.Url, Options, TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);

        var host = await store.GetHostAsync(IPAddress.Parse("::ffff:1.1.1.1"), history: true, TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.NotNull(host);
        Assert.Equal([21u, 22u], host.Services.Select(s => s.Record.Port));
        Assert.Equal([ftp, older], host.History);
        var serviceQuery = JsonNode.Parse(server.Requests.Last(r => r.Path == "/exposure-services/_search").Body)!;
        Assert.Equal("""[{"term":{"live":true}},{"term":{"ip":"1.1.1.1"}}]""", serviceQuery["query"]!["bool"]!["filter"]!.ToJsonString());

        // Full pages (2 of 2) are followed by one more, empty, page that ends each walk.
        var walk = server.Requests.Where(r => r.Path is "/exposure-services/_search" or "/exposure-observations-*/_search").Skip(2).ToList();
        Assert.Equal(4, walk.Count);
        Assert.Equal("""[21,"b"]""", JsonNode.Parse(walk[1].Body)!["search_after"]!.ToJsonString());
    }

    [Fact]
    public async Task GetChanges_AfterAnId_AsksForLaterIdsAscending()
    {
        var change = new ChangeEvent { Id = 12, Kind = ChangeKind.Gone, Key = "1.1.1.1:21/tcp", RecordId = "ab" };
        var doc = ElasticDocuments.ChangeDocument(change);
        await using var server = Cluster((request, body) => (request.Method, request.Path) switch
        {
            ("POST", "/exposure-changes/_search") when body!["range"] is null && body["query"] is not null => ScriptedResponse.Ok(
                "{\"hits\":{\"hits\":[{\"_index\":\"exposure-changes\",\"_id\":\"ab\",\"_source\":" + doc.ToJsonString() + "}]}}"),
            _ => null,
        });
        await using var store = await ElasticStore.OpenAsync(server.Url, Options, TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);

        var changes = await store.GetChangesAsync(11, 50, TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal([change], changes);
        var body = JsonNode.Parse(server.Requests[^1].Body)!;
        Assert.Equal("""{"range":{"id":{"gt":11}}}""", body["query"]!.ToJsonString());
        Assert.Equal("""[{"id":"asc"}]""", body["sort"]!.ToJsonString());
        Assert.Equal(50, body["size"]!.GetValue<int>());
        Assert.Empty(await store.GetChangesAsync(11, 0, TestContext.Current.CancellationToken));
    }

    /// <summary>A scripted cluster that answers the open sequence itself and the rest from <paramref name="script"/>.</summary>
    private static ScriptedHttpServer Cluster(Func<RecordedRequest, JsonNode?, ScriptedResponse?> script)
        => new((request, _) =>
        {
            var body = request.Body.Length > 0 ? JsonNode.Parse(request.Body) : null;
            var isMaxQuery = body?["size"]?.GetValue<int>() == 1 && body["sort"] is not null && body["pit"] is null && body["query"] is null && request.Path.EndsWith("/_search", StringComparison.Ordinal);
            return (request.Method, request.Path) switch
            {
                ("GET", "/") => ScriptedResponse.Ok("""{"cluster_name":"scripted","version":{"number":"8.13.4"}}"""),
                ("PUT", _) => ScriptedResponse.Ok("""{"acknowledged":true}"""),
                _ when isMaxQuery => ScriptedResponse.Ok("""{"hits":{"hits":[]}}"""),
                _ => script(request, body) ?? ScriptedResponse.Json(400, "{\"error\":{\"type\":\"unscripted\",\"reason\":\"" + request.Method + " " + request.Path + "\"}}"),
            };
        });

    private static string Hit(ServiceRecord record, string sort)
    {
        var state = new ServiceState { Key = ElasticDocuments.KeyOf(record), Current = record, Live = true, Observations = 1, CurrentId = Contracts.RecordIdentity.Compute(record) };
        var source = ElasticDocuments.ServiceDocument(state, 1);
        return "{\"_index\":\"x\",\"_id\":\"" + state.Key + "\",\"_source\":" + source.ToJsonString() + ",\"sort\":" + sort + "}";
    }

    private static ScriptedResponse Page(string? pit, params string[] hits)
        => ScriptedResponse.Ok("{" + (pit is null ? string.Empty : "\"pit_id\":\"" + pit + "\",") + "\"hits\":{\"hits\":[" + string.Join(',', hits) + "]}}");
}
