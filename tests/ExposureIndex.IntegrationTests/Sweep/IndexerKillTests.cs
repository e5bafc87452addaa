using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using ExposureIndex.Query;
using ExposureIndex.Storage;
using ExposureIndex.Storage.Embedded;
using ExposureIndex.TestCommon;

namespace ExposureIndex.IntegrationTests.Sweep;

/// <summary>
/// Issue 4's delivery target: zero records lost when the Indexer is killed (-9) and restarted mid-crawl. The real
/// `exposure serve` runs as a child process on a fixed loopback port; the real `exposure crawl --indexer --spool`
/// sweeps 200 loopback listeners; the Indexer is SIGKILLed once records are flowing and restarted on the same data
/// and port. The crawl must exit 0 (every record acknowledged), and the store must hold every open port exactly once.
/// </summary>
public sealed partial class IndexerKillTests : IDisposable
{
    private const string ApiKey = "sweep-kill9-key-0123456789";
    private readonly string _dir = Directory.CreateTempSubdirectory("exposure-indexer-kill-").FullName;
    private readonly Listeners _listeners = new(addresses: 40, ports: 5);

    public void Dispose()
    {
        _listeners.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string Data => Path.Combine(_dir, "data");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(CliProcess Process, Uri Api)> ServeAsync(IPEndPoint grpc)
    {
        var serve = CliProcess.Start(["serve", "--data", Data, "--http", "127.0.0.1:0", "--grpc", grpc.ToString(), "--api-key", ApiKey]);
        var api = await serve.WaitForOutputAsync(ApiLine(), TimeSpan.FromSeconds(60));
        await serve.WaitForOutputAsync(IngestLine(), TimeSpan.FromSeconds(60));
        var url = new Uri(api.Groups[1].Value);
        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(url.Host)));
        return (serve, url);
    }

    private static async Task<long> CountAsync(HttpClient http, Uri api)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(api, $"/shodan/host/count?key={ApiKey}&query=net:127.0.0.0/8"), Ct);
            if (!response.IsSuccessStatusCode)
            {
                return -1;
            }

            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
            return body.RootElement.GetProperty("total").GetInt64();
        }
        catch (HttpRequestException)
        {
            return -1;
        }
    }

    [Fact]
    public async Task IndexerKilledAndRestartedMidCrawl_LosesNoRecord_AndTheCrawlExitsZero()
    {
        // The restarted Indexer binds the same port again, so it lives on an address of its own: a port on the shared
        // 127.0.0.1 could be taken by another test's ephemeral bind while the Indexer is down.
        var indexerAddress = Loopback.NextAddress();
        var grpc = new IPEndPoint(indexerAddress, Loopback.FreeTcpPort(indexerAddress));
        var (serve, api) = await ServeAsync(grpc);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        CliProcess? restarted = null;
        try
        {
            var stats = Path.Combine(_dir, "stats.json");
            using var crawl = CliProcess.Start(
            [
                "crawl", "--targets", _listeners.TargetList, "--ports", string.Join(',', _listeners.Ports.Concat(Enumerable.Range(42000, 1000).Except(_listeners.Ports).Take(15))),
                "--allow-loopback", "--seed", "99", "--rate", "100", "--indexer", $"http://{grpc}", "--spool", Path.Combine(_dir, "spool"),
                "--stats", stats, "--banner-wait", "300ms", "--read-timeout", "300ms", "--no-deep-grab", "--delivery-timeout", "90s", "--quiet",
            ]);

            // Records are flowing into the Indexer: now the crash.
            Assert.True(await Poll.UntilAsync(async () => await CountAsync(http, api) >= 20, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100), Ct),
                $"the Indexer never received 20 records:\n{crawl.Stderr}");
            serve.KillNine();
            Assert.Equal(137, await serve.WaitAsync(TimeSpan.FromSeconds(30)));

            // The crawler notices (deliveries fail and go to the spool) while it keeps sweeping.
            await crawl.WaitForOutputAsync(DeliveryFailed(), TimeSpan.FromSeconds(60));
            (restarted, _) = await ServeAsync(grpc);

            var exit = await crawl.WaitAsync(TimeSpan.FromSeconds(180));
            Assert.True(exit == 0, $"crawl exit {exit}:\n{crawl.Stdout}\n{crawl.Stderr}");
            var summary = SweepFiles.Stats(stats);
            Assert.True(summary.GetProperty("complete").GetBoolean(), summary.ToString());
            Assert.Equal(200L, summary.GetProperty("open").GetInt64());
            Assert.Equal(200L, summary.GetProperty("records_acknowledged").GetInt64());
            Assert.Equal(0L, summary.GetProperty("spooled").GetInt64());
        }
        finally
        {
            serve.Dispose();
            restarted?.KillNine();
            restarted?.Dispose();
        }

        // Acknowledged means committed: the store after a final kill -9 holds every listener, once, and nothing else.
        await using var store = EmbeddedStore.Open(Data);
        var stored = await store.GetStatsAsync(Ct);
        Assert.Equal(200L, stored.Services);
        foreach (var address in _listeners.Addresses)
        {
            var found = await store.SearchAsync(SearchRequest.CountOnly(QueryParser.Parse($"ip:{address}").Root), Ct);
            Assert.Equal(_listeners.Ports.Count, found.Total);
        }
    }

    [GeneratedRegex(@"^api\s+(http://\S+)", RegexOptions.Multiline)]
    private static partial Regex ApiLine();

    [GeneratedRegex(@"^ingest\s+(http://\S+)", RegexOptions.Multiline)]
    private static partial Regex IngestLine();

    [GeneratedRegex(@"Delivery to the Indexer failed")]
    private static partial Regex DeliveryFailed();
}
