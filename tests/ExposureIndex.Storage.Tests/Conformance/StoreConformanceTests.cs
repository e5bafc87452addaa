using System.Net;
using ExposureIndex.Contracts;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Query;
using Google.Protobuf.WellKnownTypes;

namespace ExposureIndex.Storage.Tests.Conformance;

/// <summary>
/// One conformance suite for every store backend (GUIDE §3.8): the same fixtures, queries and expected
/// counts. The embedded store always runs it; Elasticsearch runs it when EXPOSUREINDEX_ELASTIC_URL is set.
/// </summary>
public abstract class StoreConformanceTests : IAsyncLifetime
{
    private IExposureStore? _store;

    protected IExposureStore Store => _store ?? throw new InvalidOperationException("store not created");

    public static TheoryData<string, int> Queries()
    {
        var data = new TheoryData<string, int>();
        foreach (var (query, count) in ConformanceFixtures.Expectations())
        {
            data.Add(query, count);
        }

        return data;
    }

    public async ValueTask InitializeAsync()
    {
        _store = await CreateStoreAsync();
        var result = await _store.IngestAsync(ConformanceFixtures.All(), TestContext.Current.CancellationToken);
        Assert.All(result.Dispositions, d => Assert.Equal(IngestDisposition.New, d));
    }

    public async ValueTask DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        await CleanupAsync();
        GC.SuppressFinalize(this);
    }

    protected abstract Task<IExposureStore> CreateStoreAsync();

    protected virtual Task CleanupAsync() => Task.CompletedTask;

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task Search_ConformanceQuery_ReturnsExpectedCount(string query, int expected)
    {
        var parsed = QueryParser.Parse(query);
        var result = await Store.SearchAsync(new SearchRequest(parsed.Root, [], 0, 100), TestContext.Current.CancellationToken);
        Assert.Equal(expected, result.Total);
        Assert.Equal(expected, result.Matches.Count);
    }

    [Fact]
    public async Task Search_ProductFilter_MatchesWithinOneService()
    {
        // port and product must hold for the same service, not anywhere on the host (Shodan's unit of record).
        var parsed = QueryParser.Parse("port:21 product:OpenSSH");
        var result = await Store.SearchAsync(SearchRequest.CountOnly(parsed.Root), TestContext.Current.CancellationToken);
        Assert.Equal(0, result.Total);
    }

    [Fact]
    public async Task Search_Facets_CountTopValuesByDescendingCount()
    {
        var facets = FacetParser.Parse("country:2,port,org:1");
        var result = await Store.SearchAsync(SearchRequest.CountOnly(MatchAllNode.Instance, facets), TestContext.Current.CancellationToken);
        Assert.Equal(10, result.Total);
        Assert.Equal([new FacetBucket("US", 5), new FacetBucket("AU", 2)], result.Facets["country"]);
        Assert.Equal(5, result.Facets["port"].Count);
        Assert.Equal(new FacetBucket("80", 2), result.Facets["port"][0]);
        Assert.Equal([new FacetBucket("Google LLC", 3)], result.Facets["org"]);
    }

    [Fact]
    public async Task Search_FacetsWithFilter_CountOnlyMatches()
    {
        var result = await Store.SearchAsync(SearchRequest.CountOnly(QueryParser.Parse("http.status:200,403").Root, FacetParser.Parse("product,http.status")), TestContext.Current.CancellationToken);
        Assert.Equal(3, result.Total);
        Assert.Equal([new FacetBucket("Apache httpd", 2), new FacetBucket("nginx", 1)], result.Facets["product"]);
        Assert.Equal([new FacetBucket("200", 2), new FacetBucket("403", 1)], result.Facets["http.status"]);
    }

    [Fact]
    public async Task Search_Paging_PagesAreDisjointAndComplete()
    {
        var seen = new HashSet<string>();
        for (var offset = 0; offset < 10; offset += 3)
        {
            var page = await Store.SearchAsync(new SearchRequest(MatchAllNode.Instance, [], offset, 3), TestContext.Current.CancellationToken);
            Assert.Equal(10, page.Total);
            foreach (var match in page.Matches)
            {
                Assert.True(seen.Add(ServiceKey.From(match.Record).ToString()));
            }
        }

        Assert.Equal(10, seen.Count);
    }

    [Fact]
    public async Task Search_Scope_IsAndedIn()
    {
        var scope = QueryParser.Parse("net:8.8.4.0/24").Root;
        var result = await Store.SearchAsync(new SearchRequest(QueryParser.Parse("product:nginx").Root, [], 0, 10, scope), TestContext.Current.CancellationToken);
        Assert.Equal(2, result.Total);
        var outside = await Store.SearchAsync(new SearchRequest(QueryParser.Parse("port:22").Root, [], 0, 10, scope), TestContext.Current.CancellationToken);
        Assert.Equal(0, outside.Total);
    }

    [Fact]
    public async Task GetHost_KnownIp_ReturnsItsServices()
    {
        var host = await Store.GetHostAsync(IPAddress.Parse("8.8.4.4"), history: false, TestContext.Current.CancellationToken);
        Assert.NotNull(host);
        Assert.Equal([80u, 443u], host.Services.Select(s => s.Record.Port).Order());
        Assert.All(host.Services, s => Assert.Equal(ConformanceFixtures.T0, s.FirstSeen.ToDateTime()));
    }

    [Fact]
    public async Task GetHost_Ipv6_ReturnsItsServices()
    {
        var host = await Store.GetHostAsync(IPAddress.Parse("2001:4860:4860:0:0:0:0:8888"), history: false, TestContext.Current.CancellationToken);
        Assert.NotNull(host);
        Assert.Single(host.Services);
    }

    [Fact]
    public async Task GetHost_UnknownIp_ReturnsNull()
    {
        Assert.Null(await Store.GetHostAsync(IPAddress.Parse("203.0.113.9"), history: false, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Ingest_SameBatchTwice_IsIdempotent()
    {
        var again = await Store.IngestAsync(ConformanceFixtures.All(), TestContext.Current.CancellationToken);
        Assert.All(again.Dispositions, d => Assert.Equal(IngestDisposition.Duplicate, d));
        var stats = await Store.GetStatsAsync(TestContext.Current.CancellationToken);
        Assert.Equal(10, stats.Services);
        Assert.Equal(10, stats.Observations);
    }

    [Fact]
    public async Task Ingest_NewerObservation_ReplacesCurrentAndKeepsHistory()
    {
        var newer = ConformanceFixtures.Record("1.1.1.1", 22, "SSH-2.0-OpenSSH_9.6p1\r\n", "OpenSSH", "9.6p1", at: ConformanceFixtures.T0.AddDays(30));
        var result = await Store.IngestAsync([newer], TestContext.Current.CancellationToken);
        Assert.Equal([IngestDisposition.Updated], result.Dispositions);

        Assert.Equal(0, (await Count("version:9.2p1")));
        Assert.Equal(1, (await Count("version:9.6p1")));
        var host = await Store.GetHostAsync(IPAddress.Parse("1.1.1.1"), history: true, TestContext.Current.CancellationToken);
        Assert.NotNull(host);
        var ssh = Assert.Single(host.Services, s => s.Record.Port == 22);
        Assert.Equal(ConformanceFixtures.T0, ssh.FirstSeen.ToDateTime());
        Assert.Equal(ConformanceFixtures.T0.AddDays(30), ssh.LastSeen.ToDateTime());
        Assert.Equal(["9.6p1", "9.2p1"], host.History.Where(h => h.Port == 22).Select(h => h.Version));
        Assert.Equal(3, host.History.Count);

        var changes = await Store.GetChangesAsync(0, 100, TestContext.Current.CancellationToken);
        var change = Assert.Single(changes, c => c.Kind == ChangeKind.Changed);
        Assert.Equal("1.1.1.1:22/tcp", change.Key);
        Assert.Equal("9.2p1", change.OldVersion);
        Assert.Equal("9.6p1", change.NewVersion);
        Assert.Equal(10, changes.Count(c => c.Kind == ChangeKind.New));
    }

    [Fact]
    public async Task Ingest_OlderObservation_GoesToHistoryOnly()
    {
        var older = ConformanceFixtures.Record("1.1.1.1", 22, "SSH-2.0-OpenSSH_8.4p1\r\n", "OpenSSH", "8.4p1", at: ConformanceFixtures.T0.AddDays(-30));
        var result = await Store.IngestAsync([older], TestContext.Current.CancellationToken);
        Assert.Equal([IngestDisposition.History], result.Dispositions);
        Assert.Equal(1, await Count("version:9.2p1"));
        var host = await Store.GetHostAsync(IPAddress.Parse("1.1.1.1"), history: false, TestContext.Current.CancellationToken);
        var ssh = Assert.Single(host!.Services, s => s.Record.Port == 22);
        Assert.Equal(ConformanceFixtures.T0.AddDays(-30), ssh.FirstSeen.ToDateTime());
        Assert.Equal(2u, ssh.Observations);
    }

    [Fact]
    public async Task Ingest_ClosedObservation_RemovesServiceAndLogsGone()
    {
        var closed = ConformanceFixtures.Record("1.1.1.1", 21, string.Empty, at: ConformanceFixtures.T0.AddDays(1));
        closed.Outcome = GrabOutcome.Refused;
        var result = await Store.IngestAsync([closed], TestContext.Current.CancellationToken);
        Assert.Equal([IngestDisposition.Gone], result.Dispositions);
        Assert.Equal(0, await Count("port:21"));

        var back = ConformanceFixtures.Record("1.1.1.1", 21, "220 (vsFTPd 3.0.5)\r\n", "vsftpd", "3.0.5", at: ConformanceFixtures.T0.AddDays(2));
        Assert.Equal([IngestDisposition.New], (await Store.IngestAsync([back], TestContext.Current.CancellationToken)).Dispositions);
        Assert.Equal(1, await Count("port:21 version:3.0.5"));
        var changes = await Store.GetChangesAsync(10, 100, TestContext.Current.CancellationToken);
        Assert.Equal([ChangeKind.Gone, ChangeKind.Returned], changes.Select(c => c.Kind));
    }

    [Fact]
    public async Task Ingest_SameServiceSeveralTimesInOneBatch_KeepsNewestAndAllHistory()
    {
        var batch = new[] { 3, 1, 2 }
            .Select(day => ConformanceFixtures.Record("5.6.7.8", 8443, $"day {day}", "thing", day.ToString(System.Globalization.CultureInfo.InvariantCulture), at: ConformanceFixtures.T0.AddDays(day)))
            .ToList();
        batch.Add(batch[0].Clone());
        var result = await Store.IngestAsync(batch, TestContext.Current.CancellationToken);
        Assert.Equal([IngestDisposition.New, IngestDisposition.History, IngestDisposition.History, IngestDisposition.Duplicate], result.Dispositions);
        Assert.Equal(1, await Count("ip:5.6.7.8 version:3"));
        var host = await Store.GetHostAsync(IPAddress.Parse("5.6.7.8"), history: true, TestContext.Current.CancellationToken);
        Assert.Equal(["3", "2", "1"], host!.History.Select(h => h.Version));
        Assert.Equal(ConformanceFixtures.T0.AddDays(1), Assert.Single(host.Services).FirstSeen.ToDateTime());
    }

    [Fact]
    public async Task Export_AllMatches_StreamsEveryService()
    {
        var exported = new List<StoredService>();
        await foreach (var service in Store.ExportAsync(QueryParser.Parse("country:US").Root, TestContext.Current.CancellationToken))
        {
            exported.Add(service);
        }

        Assert.Equal(5, exported.Count);
    }

    [Fact]
    public async Task Search_Match_CarriesTheStoredRecord()
    {
        var result = await Store.SearchAsync(new SearchRequest(QueryParser.Parse("port:443").Root, [], 0, 10), TestContext.Current.CancellationToken);
        var match = Assert.Single(result.Matches);
        Assert.Equal("TLSv1.3", match.Record.Ssl.Version);
        Assert.Equal(RecordIdentity.Compute(match.Record), match.RecordId);
        Assert.Equal(Timestamp.FromDateTime(ConformanceFixtures.T0), match.LastSeen);
    }

    private async Task<long> Count(string query)
        => (await Store.SearchAsync(SearchRequest.CountOnly(QueryParser.Parse(query).Root), TestContext.Current.CancellationToken)).Total;
}
