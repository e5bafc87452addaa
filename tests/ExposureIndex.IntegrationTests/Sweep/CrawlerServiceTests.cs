using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ExposureIndex.TestCommon;

namespace ExposureIndex.IntegrationTests.Sweep;

/// <summary>
/// Issue 4 §9: the Crawler as a long-running service (`exposure crawler-service --config FILE`), run as child
/// processes the way a StatefulSet runs its pods: the shard comes from the pod name in HOSTNAME, the assignment from
/// the configuration file, and /healthz, /readyz and /metrics report on it. SIGTERM drains, checkpoints and exits 0;
/// a restarted replica resumes its unfinished sweep.
/// </summary>
public sealed partial class CrawlerServiceTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private readonly string _dir = Directory.CreateTempSubdirectory("exposure-crawler-service-").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Config(Listeners listeners, int closedPorts, double rate, string name)
    {
        var config = new
        {
            Crawler = new Dictionary<string, object>
            {
                ["Targets"] = listeners.Addresses.Select(a => a.ToString()).ToArray(),
                ["Ports"] = string.Join(',', listeners.Ports.Concat(Enumerable.Range(43000, 1000).Except(listeners.Ports).Take(closedPorts))),
                ["AllowLoopback"] = true,
                ["Seed"] = 4242,
                ["Rate"] = rate,
                ["Schedule"] = "once",
                ["Output"] = Path.Combine(_dir, name + ".ndjson"),
                ["StateDirectory"] = Path.Combine(_dir, name + "-state"),
                ["CheckpointInterval"] = "300ms",
                ["MetricsAddress"] = "127.0.0.1",
                ["MetricsPort"] = 0,
                ["BannerWait"] = "300ms",
                ["ReadTimeout"] = "300ms",
                ["DeepGrab"] = false,
            },
        };
        var path = Path.Combine(_dir, name + ".json");
        File.WriteAllText(path, "// written by CrawlerServiceTests\n" + JsonSerializer.Serialize(config));
        return path;
    }

    private static async Task<Uri> StartedAsync(CliProcess service)
        => new((await service.WaitForOutputAsync(HealthLine(), TimeSpan.FromSeconds(60))).Groups[1].Value);

    private async Task<(int Status, string Body)> GetAsync(Uri baseUrl, string path)
    {
        using var response = await _http.GetAsync(new Uri(baseUrl, path), Ct);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
    }

    private async Task<string> WaitForSweepsAsync(Uri baseUrl, int sweeps)
    {
        var metrics = string.Empty;
        var done = await Poll.UntilAsync(async () =>
        {
            metrics = (await GetAsync(baseUrl, "metrics")).Body;
            return metrics.Contains($"exposure_crawler_sweeps_total {sweeps}\n", StringComparison.Ordinal)
                && metrics.Contains("exposure_crawler_sweeping 0\n", StringComparison.Ordinal);
        }, Timeout, TimeSpan.FromMilliseconds(200), Ct);
        Assert.True(done, $"sweep {sweeps} did not finish:\n{metrics}");
        return metrics;
    }

    private static double Metric(string metrics, string name)
    {
        var match = Regex.Match(metrics, "^" + Regex.Escape(name) + @" (\S+)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"no sample {name} in:\n{metrics}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task TwoReplicas_ShardFromThePodName_TogetherFindEveryListenerOnce_AndReportHealthAndMetrics()
    {
        using var listeners = new Listeners(addresses: 8, ports: 2);
        var outputs = new List<string>();
        var positions = 0.0;
        for (var ordinal = 0; ordinal < 2; ordinal++)
        {
            var config = Config(listeners, closedPorts: 4, rate: 500, $"replica{ordinal}");
            using var service = CliProcess.Start(["crawler-service", "--config", config, "--set", "Shards=2"],
                new Dictionary<string, string> { ["HOSTNAME"] = $"crawler-{ordinal}.crawler.exposureindex.svc.cluster.local" });
            var url = await StartedAsync(service);
            Assert.Contains($"crawler-service shard {ordinal}/2", service.Stdout, StringComparison.Ordinal);

            var metrics = await WaitForSweepsAsync(url, 1);
            var shard = $"{{mode=\"connect\",shard=\"{ordinal}/2\"}}";
            var planned = Metric(metrics, "exposure_crawler_sweep_positions" + shard);
            Assert.Equal(planned, Metric(metrics, "exposure_crawler_sweep_done" + shard));
            Assert.Equal(planned, Metric(metrics, "exposure_crawler_attempts_total" + shard));
            Assert.Equal(0, Metric(metrics, "exposure_crawler_sweep_failures_total"));
            positions += planned;

            var (health, healthBody) = await GetAsync(url, "healthz");
            Assert.Equal(200, health);
            Assert.Contains("\"status\":\"healthy\"", healthBody, StringComparison.Ordinal);
            Assert.Equal(200, (await GetAsync(url, "readyz")).Status);

            service.Terminate();
            Assert.Equal(0, await service.WaitAsync(Timeout));
            outputs.Add(Path.Combine(_dir, $"replica{ordinal}.ndjson"));
        }

        Assert.Equal(8 * (2 + 4), positions);
        var keys = outputs.SelectMany(SweepFiles.RecordKeys).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.Equal(listeners.Keys, keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task StoppedReplica_RestartsAndResumesItsSweep_WithoutRepeats()
    {
        using var listeners = new Listeners(addresses: 10, ports: 2);
        var config = Config(listeners, closedPorts: 18, rate: 50, "resume");
        var checkpoint = Path.Combine(_dir, "resume-state", "sweep-0-of-1.checkpoint.json");
        var output = Path.Combine(_dir, "resume.ndjson");

        using (var first = CliProcess.Start(["crawler-service", "--config", config]))
        {
            await StartedAsync(first);
            Assert.True(await Poll.UntilAsync(() => File.Exists(checkpoint) && SweepFiles.CheckpointPosition(checkpoint) >= 40, Timeout, Ct),
                $"no progress was checkpointed:\n{first.Stderr}");
            first.Terminate();
            Assert.Equal(0, await first.WaitAsync(Timeout));
        }

        var stoppedAt = SweepFiles.CheckpointPosition(checkpoint);
        Assert.InRange(stoppedAt, 40UL, 199UL);
        using (var second = CliProcess.Start(["crawler-service", "--config", config]))
        {
            var url = await StartedAsync(second);
            var metrics = await WaitForSweepsAsync(url, 1);
            Assert.Equal(200, Metric(metrics, "exposure_crawler_sweep_done{mode=\"connect\",shard=\"0/1\"}"));
            // This run attempted only what the first had not finished.
            Assert.Equal(200 - stoppedAt, Metric(metrics, "exposure_crawler_attempts_total{mode=\"connect\",shard=\"0/1\"}"));
            Assert.Contains("Resuming from checkpoint", second.Stderr, StringComparison.Ordinal);
            second.Terminate();
            Assert.Equal(0, await second.WaitAsync(Timeout));
        }

        var keys = SweepFiles.RecordKeys(output);
        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.Equal(listeners.Keys, keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task BadConfiguration_ListsEveryErrorAndExitsTwo()
    {
        var path = Path.Combine(_dir, "bad.json");
        await File.WriteAllTextAsync(path, "{ \"Crawler\": { \"Targets\": [ \"not-an-address\" ], \"Rat\": 5, \"Shards\": 3, \"IndexerUrl\": \"http://index:8781\" } }", Ct);
        var (exit, _, stderr) = await CliProcess.RunAsync(["crawler-service", "--config", path], Timeout, new Dictionary<string, string> { ["HOSTNAME"] = "crawler-7" });

        Assert.Equal(2, exit);
        Assert.Contains("Crawler:Rat: is not a crawler setting", stderr, StringComparison.Ordinal);
        Assert.Contains("Crawler:Targets:", stderr, StringComparison.Ordinal);
        Assert.Contains("pod ordinal 7", stderr, StringComparison.Ordinal);
        Assert.Contains("Crawler:Seed: is required when Shards > 1", stderr, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"health (http://127\.0\.0\.1:\d+/)healthz")]
    private static partial Regex HealthLine();
}
