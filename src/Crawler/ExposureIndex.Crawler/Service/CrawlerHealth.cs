using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ExposureIndex.Crawler.Service;

internal enum HealthStatus
{
    Healthy = 0,
    Degraded = 1,
    Unhealthy = 2,
}

/// <summary>One named check with its verdict and a human sentence.</summary>
internal sealed record HealthCheck(string Name, HealthStatus Status, string Detail);

/// <summary>The inputs of health: scheduler, delivery and progress, all as plain values.</summary>
internal sealed record HealthInputs
{
    public required SchedulerStatus Scheduler { get; init; }

    public required DateTimeOffset Now { get; init; }

    /// <summary>Polly's circuit state as text: Closed, Open, HalfOpen or Isolated; null with file output.</summary>
    public string? Breaker { get; init; }

    public long Spooled { get; init; }

    /// <summary>When the running sweep last finished a position; null before it started.</summary>
    public DateTimeOffset? LastProgress { get; init; }

    /// <summary>A sweep that finishes nothing for this long is stuck (liveness fails, Kubernetes restarts the pod).</summary>
    public TimeSpan StallAfter { get; init; } = TimeSpan.FromMinutes(10);
}

/// <summary>The verdict: overall status (the worst check) and every check.</summary>
internal sealed record HealthReport(HealthStatus Status, IReadOnlyList<HealthCheck> Checks)
{
    /// <summary>HTTP status for the endpoint: 503 only when unhealthy (degraded still serves).</summary>
    public int HttpStatus => Status == HealthStatus.Unhealthy ? 503 : 200;

    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", Status.ToString().ToLowerInvariant());
            json.WriteStartArray("checks");
            foreach (var check in Checks)
            {
                json.WriteStartObject();
                json.WriteString("name", check.Name);
                json.WriteString("status", check.Status.ToString().ToLowerInvariant());
                json.WriteString("detail", check.Detail);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}

/// <summary>
/// Health of the long-running crawler, for <c>/healthz</c> (liveness: is the process doing its job) and
/// <c>/readyz</c> (readiness). Unhealthy: the scheduler stopped, or a running sweep made no progress for
/// StallAfter. Degraded: the Indexer is unreachable (breaker open, records spooled) or the last sweep failed;
/// the crawler still works and loses nothing, so degraded is not a reason to restart it.
/// </summary>
internal static class CrawlerHealth
{
    public static HealthReport Evaluate(HealthInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var checks = new List<HealthCheck>();
        var scheduler = inputs.Scheduler;
        checks.Add(scheduler.State switch
        {
            SchedulerState.Stopped => new HealthCheck("scheduler", HealthStatus.Unhealthy, "the scheduler has stopped"),
            SchedulerState.Waiting => new HealthCheck("scheduler", HealthStatus.Healthy,
                scheduler.NextStart is { } next ? string.Create(CultureInfo.InvariantCulture, $"waiting; next sweep at {next:u}") : "waiting"),
            _ => new HealthCheck("scheduler", HealthStatus.Healthy, scheduler.State.ToString().ToLowerInvariant()),
        });

        if (scheduler.State == SchedulerState.Sweeping)
        {
            var since = inputs.LastProgress ?? scheduler.LastStart ?? inputs.Now;
            var quiet = inputs.Now - since;
            checks.Add(quiet > inputs.StallAfter
                ? new HealthCheck("progress", HealthStatus.Unhealthy, $"no position finished for {ProgressReporter.FormatDuration(quiet)} (limit {ProgressReporter.FormatDuration(inputs.StallAfter)})")
                : new HealthCheck("progress", HealthStatus.Healthy, $"last progress {ProgressReporter.FormatDuration(quiet)} ago"));
        }

        checks.Add(scheduler.ConsecutiveFailures > 0
            ? new HealthCheck("last-sweep", HealthStatus.Degraded, string.Create(CultureInfo.InvariantCulture,
                $"{scheduler.ConsecutiveFailures} sweep(s) in a row failed: {scheduler.LastError}"))
            : new HealthCheck("last-sweep", HealthStatus.Healthy, scheduler.LastSuccess is { } ok
                ? string.Create(CultureInfo.InvariantCulture, $"last success {ok:u}")
                : "no sweep finished yet"));

        if (inputs.Breaker is { } breaker)
        {
            var open = breaker is "Open" or "Isolated";
            checks.Add(open || inputs.Spooled > 0
                ? new HealthCheck("indexer", HealthStatus.Degraded, string.Create(CultureInfo.InvariantCulture,
                    $"circuit {breaker.ToLowerInvariant()}, {inputs.Spooled} records spooled until the Indexer is back"))
                : new HealthCheck("indexer", HealthStatus.Healthy, "delivering"));
        }

        var worst = checks.Max(c => c.Status);
        return new HealthReport(worst, checks);
    }
}

/// <summary>The metrics page of the crawler, from a sweep snapshot and the scheduler.</summary>
internal static class CrawlerMetrics
{
    public static string Build(SweepSnapshot? sweep, SchedulerStatus scheduler, string? breaker, long spooledBatchesTotal = 0)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        var text = new PrometheusText();
        var mode = sweep?.Mode ?? "none";
        var shard = sweep?.Shard ?? "0/1";
        (string, string)[] labels = [("mode", mode), ("shard", shard)];
        if (sweep is not null)
        {
            text.Gauge("exposure_crawler_sweep_positions", "Positions in this shard's current sweep", sweep.Planned, labels)
                .Gauge("exposure_crawler_sweep_done", "Positions of the current sweep that are finished", sweep.Done, labels)
                .Counter("exposure_crawler_attempts_total", "Connection attempts or SYN probes sent in the current sweep", sweep.Attempted, labels)
                .Family("exposure_crawler_ports_total", "counter", "Discovery answers in the current sweep, by state")
                .Sample("exposure_crawler_ports_total", sweep.Open, [.. labels, ("state", "open")])
                .Sample("exposure_crawler_ports_total", sweep.Closed, [.. labels, ("state", "closed")])
                .Sample("exposure_crawler_ports_total", sweep.Filtered, [.. labels, ("state", "filtered")])
                .Family("exposure_crawler_records_total", "counter", "Records of the current sweep, by fate")
                .Sample("exposure_crawler_records_total", sweep.RecordsWritten, [.. labels, ("fate", "written")])
                .Sample("exposure_crawler_records_total", sweep.RecordsAcknowledged, [.. labels, ("fate", "acknowledged")])
                .Sample("exposure_crawler_records_total", sweep.RecordsRejected, [.. labels, ("fate", "rejected")])
                .Gauge("exposure_crawler_rate_limit", "Configured attempts per second (0: unlimited)", sweep.RateLimit ?? 0, labels);
        }

        text.Gauge("exposure_crawler_spooled_records", "Records in the disk spool waiting for the Indexer", sweep?.Spooled ?? 0)
            .Counter("exposure_crawler_spooled_batches_total", "Batches moved to the disk spool since start", spooledBatchesTotal)
            .Gauge("exposure_crawler_indexer_circuit_open", "1 while the circuit to the Indexer is open", breaker is "Open" or "Isolated" ? 1 : 0)
            .Counter("exposure_crawler_sweeps_total", "Sweeps started since start", scheduler.Cycles)
            .Counter("exposure_crawler_sweep_failures_total", "Sweeps that failed since start", scheduler.Failures)
            .Gauge("exposure_crawler_sweeping", "1 while a sweep runs", scheduler.State == SchedulerState.Sweeping ? 1 : 0)
            .Gauge("exposure_crawler_last_success_timestamp_seconds", "Unix time the last sweep finished successfully (0: never)",
                scheduler.LastSuccess?.ToUnixTimeMilliseconds() / 1000.0 ?? 0)
            .Gauge("exposure_crawler_next_sweep_timestamp_seconds", "Unix time of the next scheduled sweep (0: none scheduled)",
                scheduler.NextStart?.ToUnixTimeMilliseconds() / 1000.0 ?? 0);
        return text.ToString();
    }
}
