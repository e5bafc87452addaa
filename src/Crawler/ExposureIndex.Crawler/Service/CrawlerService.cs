using System.Globalization;
using System.Net;
using ExposureIndex.Crawler.Checkpointing;
using ExposureIndex.Crawler.Engine;
using ExposureIndex.Crawler.Options;
using ExposureIndex.Crawler.Publishing;
using ExposureIndex.Crawler.Targeting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Crawler.Service;

/// <summary>
/// The Crawler as a long-running service: sweeps its assignment (targets, ports, shard, rate) on the
/// <see cref="RescanSchedule"/>, resumes an unfinished sweep of the same plan from the checkpoint in the state
/// directory (a rescheduled pod continues where it stopped), publishes through one long-lived
/// <see cref="ResilientSink"/> whose spool keeps replaying between sweeps, and serves <c>/healthz</c> (liveness),
/// <c>/readyz</c> (readiness) and <c>/metrics</c> (Prometheus text). SIGTERM drains the running sweep and
/// checkpoints; a second signal, or the drain timeout, abandons what is in flight.
/// </summary>
internal sealed partial class CrawlerService
{
    private readonly CrawlerServiceOptions _options;
    private readonly ShardSpec _shard;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _sync = new();
    private RescanScheduler? _scheduler;
    private ResilientSink? _sink;
    private PreparedCrawl? _current;
    private SweepSnapshot? _last;
    private DateTimeOffset? _lastProgress;
    private ulong _lastDone;
    private volatile bool _ready;
    private volatile bool _stopping;

    public CrawlerService(CrawlerServiceOptions options, ShardSpec shard, ILoggerFactory loggerFactory, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _options = options;
        _shard = shard;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("ExposureIndex.Crawler.Service");
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Where health and metrics are served, once started.</summary>
    public Uri? MetricsUrl { get; private set; }

    /// <summary>
    /// Runs until <paramref name="shutdown"/> stops it: starts the endpoint (then <paramref name="started"/> is called
    /// with its address), sweeps on schedule, and on stop drains, checkpoints, and spools what is undelivered.
    /// </summary>
    public async Task RunAsync(GracefulShutdown shutdown, Action<Uri>? started = null)
    {
        ArgumentNullException.ThrowIfNull(shutdown);
        if (!RescanSchedule.TryParse(_options.Schedule, out var schedule, out var scheduleError))
        {
            throw new CrawlOptionsException([new OptionError("Schedule", scheduleError)]);
        }

        Directory.CreateDirectory(_options.StateDirectory);
        await using var web = await StartEndpointAsync().ConfigureAwait(false);
        started?.Invoke(MetricsUrl!);
        if (_options.IndexerUrl is { } indexer)
        {
            _sink = ResilientSink.ForIndexer(
                new IndexerSinkOptions(indexer, _options.ToCrawlOptions(_shard, resume: false).Producer!),
                new ResilientSinkOptions { SpoolDirectory = _options.SpoolDirectory },
                _time, _loggerFactory.CreateLogger("ExposureIndex.Crawler.Publishing"));
        }

        try
        {
            _scheduler = new RescanScheduler(schedule!, (cycle, stop) => SweepAsync(cycle, stop, shutdown.Aborting), _time, _logger);
            _ready = true;
            ServiceStarted(_logger, _shard.ToString(), _options.Schedule, MetricsUrl!.ToString());
            if (schedule is CronSchedule && new CheckpointStore(_options.CheckpointPath(_shard)).TryLoad(out var unfinished, out _) && !unfinished!.IsFinished)
            {
                // A restarted pod finishes the interrupted sweep now rather than at the next cron time.
                try
                {
                    await SweepAsync(0, shutdown.Stopping, shutdown.Aborting).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    ResumeFailed(_logger, e);
                }
            }

            await _scheduler.RunAsync(shutdown.Stopping).ConfigureAwait(false);
        }
        finally
        {
            _stopping = true;
            _ready = false;
            if (_sink is not null)
            {
                // Whatever memory holds goes to the spool; the next start replays it.
                await _sink.DisposeAsync().ConfigureAwait(false);
            }
        }

        ServiceStopped(_logger, shutdown.Reason ?? "stop");
    }

    /// <summary>One scheduled sweep: resume the checkpointed sweep of the same plan, or start a new one.</summary>
    private async Task SweepAsync(long cycle, CancellationToken stop, CancellationToken abort)
    {
        var runner = new CrawlRunner(_loggerFactory, _time);
        var store = new CheckpointStore(_options.CheckpointPath(_shard));
        var resume = false;
        if (store.TryLoad(out var checkpoint, out var error))
        {
            resume = !checkpoint!.IsFinished;
        }
        else if (error.Length > 0)
        {
            CheckpointDiscarded(_logger, store.Path, error);
            store.Delete();
        }

        PreparedCrawl crawl;
        try
        {
            crawl = runner.Prepare(_options.ToCrawlOptions(_shard, resume));
        }
        catch (CheckpointMismatchException e) when (resume)
        {
            // The assignment changed (targets, ports, exclusions, seed or shard): that sweep cannot go on; start the new one.
            CheckpointDiscarded(_logger, store.Path, e.Message);
            store.Delete();
            crawl = runner.Prepare(_options.ToCrawlOptions(_shard, resume: false));
        }

        using (crawl)
        {
            lock (_sync)
            {
                _current = crawl;
                _lastDone = crawl.StartPosition;
                _lastProgress = _time.GetUtcNow();
            }

            try
            {
                CrawlSummary summary;
                if (_sink is not null)
                {
                    await using var sink = new SweepSink(_sink);
                    summary = await crawl.RunAsync(sink, Observe, stop, abort).ConfigureAwait(false);
                    if (!sink.Delivered && !stop.IsCancellationRequested)
                    {
                        DeliveryPending(_logger, cycle, _sink.SpooledRecords);
                    }
                }
                else
                {
                    await using var sink = NdjsonFileSink.Open(_options.Output!, append: true);
                    summary = await crawl.RunAsync(sink, Observe, stop, abort).ConfigureAwait(false);
                }

                SweepDone(_logger, cycle, summary.Done, summary.Planned, summary.Open, summary.RecordsWritten, summary.Seed);
            }
            finally
            {
                lock (_sync)
                {
                    _last = crawl.Snapshot();
                    _current = null;
                }
            }
        }
    }

    private void Observe(SweepSnapshot snapshot)
    {
        lock (_sync)
        {
            _last = snapshot;
            if (snapshot.Done != _lastDone)
            {
                _lastDone = snapshot.Done;
                _lastProgress = _time.GetUtcNow();
            }
        }
    }

    private SchedulerStatus SchedulerStatus => _scheduler?.Status ?? new SchedulerStatus(SchedulerState.Starting, 0, 0, 0, null, null, null, null);

    internal HealthReport Health()
    {
        PreparedCrawl? current;
        lock (_sync)
        {
            current = _current;
        }

        if (current is not null)
        {
            Observe(current.Snapshot());
        }

        DateTimeOffset? lastProgress;
        lock (_sync)
        {
            lastProgress = _lastProgress;
        }

        return CrawlerHealth.Evaluate(new HealthInputs
        {
            Scheduler = SchedulerStatus,
            Now = _time.GetUtcNow(),
            Breaker = _sink?.BreakerState.ToString(),
            Spooled = _sink?.SpooledRecords ?? 0,
            LastProgress = lastProgress,
        });
    }

    internal string Metrics()
    {
        SweepSnapshot? snapshot;
        lock (_sync)
        {
            snapshot = _current?.Snapshot() ?? _last;
        }

        if (snapshot is not null && _sink is not null)
        {
            snapshot = snapshot with { Spooled = _sink.SpooledRecords };
        }

        return CrawlerMetrics.Build(snapshot, SchedulerStatus, _sink?.BreakerState.ToString(), _sink?.SpooledBatches ?? 0);
    }

    private async Task<WebApplication> StartEndpointAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Parse(_options.MetricsAddress), _options.MetricsPort));
        var app = builder.Build();
        app.MapGet("/healthz", (HttpContext context) =>
        {
            // Liveness: only a stopped scheduler or a stalled sweep is worth a restart; an unreachable Indexer is not.
            var report = Health();
            return Results.Text(report.ToJson(), "application/json", statusCode: report.HttpStatus);
        });
        app.MapGet("/readyz", () =>
        {
            var report = Health();
            var ready = _ready && !_stopping && report.Status != HealthStatus.Unhealthy;
            return Results.Text(report.ToJson(), "application/json", statusCode: ready ? 200 : 503);
        });
        app.MapGet("/metrics", () => Results.Text(Metrics(), PrometheusText.ContentType));
        await app.StartAsync().ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var uri = new Uri(address);
        var host = IPAddress.Parse(_options.MetricsAddress) is { } bound && (bound.Equals(IPAddress.Any) || bound.Equals(IPAddress.IPv6Any)) ? "127.0.0.1" : uri.Host;
        MetricsUrl = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://{host}:{uri.Port}/"));
        return app;
    }

    [LoggerMessage(EventId = 2450, Level = LogLevel.Information, Message = "Crawler service started: shard {Shard}, schedule '{Schedule}', health and metrics at {Url}")]
    private static partial void ServiceStarted(ILogger logger, string shard, string schedule, string url);

    [LoggerMessage(EventId = 2451, Level = LogLevel.Information, Message = "Crawler service stopped ({Reason})")]
    private static partial void ServiceStopped(ILogger logger, string reason);

    [LoggerMessage(EventId = 2452, Level = LogLevel.Warning, Message = "Checkpoint {Path} discarded, starting a new sweep: {Reason}")]
    private static partial void CheckpointDiscarded(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 2453, Level = LogLevel.Warning, Message = "Sweep {Cycle} ended with {Spooled} records still in the spool; they are replayed as soon as the Indexer takes them")]
    private static partial void DeliveryPending(ILogger logger, long cycle, long spooled);

    [LoggerMessage(EventId = 2455, Level = LogLevel.Error, Message = "Resuming the interrupted sweep failed; the schedule goes on")]
    private static partial void ResumeFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2454, Level = LogLevel.Information, Message = "Sweep {Cycle}: {Done} of {Planned} positions, {Open} open, {Records} records (seed {Seed})")]
    private static partial void SweepDone(ILogger logger, long cycle, ulong done, ulong planned, long open, long records, ulong seed);
}
