using System.Text.Json;
using ExposureIndex.Crawler.Service;

namespace ExposureIndex.Crawler.Tests.Service;

/// <summary>Progress line, summary, stats JSON, metrics page and health: pure content builders.</summary>
public sealed class ObservabilityTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static SweepSnapshot Snapshot(ulong done = 250_000, long open = 17, double seconds = 50) => new()
    {
        Mode = "connect",
        Shard = "1/4",
        Planned = 1_000_000,
        Done = done,
        Attempted = (long)done,
        Open = open,
        Closed = (long)done - open - 100,
        Filtered = 100,
        RecordsWritten = open,
        RecordsAcknowledged = open - 2,
        Elapsed = TimeSpan.FromSeconds(seconds),
        RateLimit = 5000,
    };

    [Fact]
    public void FormatLine_ShowsDoneRateOpenAndEta()
    {
        var line = ProgressReporter.FormatLine(Snapshot(), rate: 5000);
        Assert.Equal(" 25.0% 250,000/1,000,000 done, 5,000/s, open 17, records 15/17 acked, ETA 2m30s", line);
    }

    [Fact]
    public void Report_Interactive_RewritesOneLine()
    {
        using var output = new StringWriter();
        var reporter = new ProgressReporter(output, interactive: true);
        reporter.Report(Snapshot(done: 0, open: 0, seconds: 0));
        reporter.Report(Snapshot(done: 10_000, open: 1, seconds: 2));
        reporter.Finish(Snapshot(done: 1_000_000, seconds: 200));
        var text = output.ToString();
        Assert.Equal(2, text.Count(c => c == '\r'));
        Assert.Contains("5,000/s", text, StringComparison.Ordinal);
        Assert.EndsWith(Environment.NewLine, text, StringComparison.Ordinal);
        Assert.Contains("Finished shard 1/4 (connect): 1,000,000 of 1,000,000 positions in 3m20s", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_Redirected_WritesALineEveryInterval()
    {
        using var output = new StringWriter();
        var reporter = new ProgressReporter(output, interactive: false, logInterval: TimeSpan.FromSeconds(30));
        for (var s = 0; s <= 90; s += 5)
        {
            reporter.Report(Snapshot(done: (ulong)(s * 1000), seconds: s));
        }

        Assert.Equal(4, output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.DoesNotContain('\r', output.ToString());
    }

    [Fact]
    public void Rate_FollowsTheRecentWindow()
    {
        var reporter = new ProgressReporter(TextWriter.Null, interactive: false, rateWindow: TimeSpan.FromSeconds(10));
        for (var s = 0; s <= 60; s++)
        {
            // 1000/s for a minute, then 100/s.
            reporter.Report(Snapshot(done: (ulong)(s * 1000), seconds: s));
        }

        Assert.Equal(1000, reporter.Rate, precision: 6);
        for (var s = 61; s <= 80; s++)
        {
            reporter.Report(Snapshot(done: 60_000 + (ulong)((s - 60) * 100), seconds: s));
        }

        Assert.Equal(100, reporter.Rate, precision: 6);
    }

    [Fact]
    public void StatsJson_HasStableSnakeCaseFields()
    {
        using var json = JsonDocument.Parse(ProgressReporter.StatsJson(Snapshot(), rate: 4999.96));
        var root = json.RootElement;
        Assert.Equal("connect", root.GetProperty("mode").GetString());
        Assert.Equal(1_000_000UL, root.GetProperty("planned").GetUInt64());
        Assert.Equal(250_000UL, root.GetProperty("done").GetUInt64());
        Assert.Equal(17, root.GetProperty("open").GetInt64());
        Assert.Equal(5000.0, root.GetProperty("rate_per_second").GetDouble());
        Assert.False(root.GetProperty("complete").GetBoolean());
        Assert.Equal(
            ["mode", "shard", "planned", "done", "resumed_from", "attempted", "open", "closed", "filtered", "records_written", "records_acknowledged",
             "records_rejected", "spooled", "elapsed_seconds", "rate_per_second", "rate_limit", "cancelled", "complete", "scan_id", "seed"],
            root.EnumerateObject().Select(p => p.Name));
    }

    [Theory]
    [InlineData(5, "5s")]
    [InlineData(185, "3m05s")]
    [InlineData(7620, "2h07m")]
    [InlineData(273_600, "3d04h")]
    public void FormatDuration_Compact(int seconds, string expected)
        => Assert.Equal(expected, ProgressReporter.FormatDuration(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void PrometheusText_FollowsTheExpositionFormat()
    {
        var text = new PrometheusText()
            .Counter("x_total", "Things\\counted\nhere", 3, ("a", "q\"uote"), ("b", "back\\slash\nnl"))
            .Gauge("y", "A gauge", 0.5)
            .Family("z_total", "counter", "Two samples")
            .Sample("z_total", 1, ("state", "open"))
            .Sample("z_total", double.PositiveInfinity, ("state", "closed"))
            .ToString();
        Assert.Equal(
            "# HELP x_total Things\\\\counted\\nhere\n# TYPE x_total counter\nx_total{a=\"q\\\"uote\",b=\"back\\\\slash\\nnl\"} 3\n"
            + "# HELP y A gauge\n# TYPE y gauge\ny 0.5\n"
            + "# HELP z_total Two samples\n# TYPE z_total counter\nz_total{state=\"open\"} 1\nz_total{state=\"closed\"} +Inf\n",
            text);
        Assert.Throws<ArgumentException>(() => new PrometheusText().Gauge("bad-name", "x", 1));
        Assert.Throws<InvalidOperationException>(() => new PrometheusText().Sample("orphan", 1));
    }

    [Fact]
    public void CrawlerMetrics_EveryLineParses()
    {
        var scheduler = new SchedulerStatus(SchedulerState.Sweeping, 3, 1, 0, null, Now, Now.AddHours(-6), null);
        var page = CrawlerMetrics.Build(Snapshot(), scheduler, "Closed", spooledBatchesTotal: 4);
        var samples = page.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')).ToList();
        Assert.All(samples, line => Assert.Matches(@"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-z_]+=""[^""]*""(,[a-z_]+=""[^""]*"")*\})? [-+0-9.eE]+(Inf)?$", line));
        Assert.Contains("exposure_crawler_ports_total{mode=\"connect\",shard=\"1/4\",state=\"open\"} 17", samples);
        Assert.Contains("exposure_crawler_sweeping 1", samples);
        Assert.Contains("exposure_crawler_spooled_batches_total 4", samples);
        Assert.Contains($"exposure_crawler_last_success_timestamp_seconds {Now.AddHours(-6).ToUnixTimeSeconds()}", samples);
    }

    [Fact]
    public void Health_AllGood_IsHealthy()
    {
        var report = CrawlerHealth.Evaluate(new HealthInputs
        {
            Scheduler = new SchedulerStatus(SchedulerState.Sweeping, 1, 0, 0, null, Now.AddMinutes(-5), null, null),
            Now = Now,
            Breaker = "Closed",
            LastProgress = Now.AddSeconds(-2),
        });
        Assert.Equal(HealthStatus.Healthy, report.Status);
        Assert.Equal(200, report.HttpStatus);
        using var json = JsonDocument.Parse(report.ToJson());
        Assert.Equal("healthy", json.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public void Health_IndexerDown_IsDegradedButServes()
    {
        var report = CrawlerHealth.Evaluate(new HealthInputs
        {
            Scheduler = new SchedulerStatus(SchedulerState.Waiting, 1, 0, 0, Now.AddHours(1), Now.AddHours(-1), Now.AddMinutes(-30), null),
            Now = Now,
            Breaker = "Open",
            Spooled = 1234,
        });
        Assert.Equal(HealthStatus.Degraded, report.Status);
        Assert.Equal(200, report.HttpStatus);
        Assert.Contains(report.Checks, c => c.Name == "indexer" && c.Detail.Contains("1234 records spooled", StringComparison.Ordinal));
    }

    [Fact]
    public void Health_StalledSweep_IsUnhealthy()
    {
        var report = CrawlerHealth.Evaluate(new HealthInputs
        {
            Scheduler = new SchedulerStatus(SchedulerState.Sweeping, 1, 0, 0, null, Now.AddHours(-2), null, null),
            Now = Now,
            LastProgress = Now.AddMinutes(-11),
            StallAfter = TimeSpan.FromMinutes(10),
        });
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Equal(503, report.HttpStatus);
        Assert.Contains(report.Checks, c => c.Name == "progress" && c.Status == HealthStatus.Unhealthy);
    }

    [Fact]
    public void Health_FailedSweepsAndStoppedScheduler_AreReported()
    {
        var failed = CrawlerHealth.Evaluate(new HealthInputs
        {
            Scheduler = new SchedulerStatus(SchedulerState.Waiting, 3, 2, 2, Now.AddHours(1), Now.AddHours(-1), null, "spool failed"),
            Now = Now,
        });
        Assert.Equal(HealthStatus.Degraded, failed.Status);
        Assert.Contains(failed.Checks, c => c.Detail.Contains("spool failed", StringComparison.Ordinal));

        var stopped = CrawlerHealth.Evaluate(new HealthInputs { Scheduler = new SchedulerStatus(SchedulerState.Stopped, 3, 0, 0, null, null, null, null), Now = Now });
        Assert.Equal(HealthStatus.Unhealthy, stopped.Status);
    }
}
