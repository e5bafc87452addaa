using ExposureIndex.Crawler.Fingerprinting;
using ExposureIndex.Crawler.Fingerprinting.Probes;
using ExposureIndex.Crawler.Options;
using ExposureIndex.Grabbers;
using ExposureIndex.Crawler.Publishing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ExposureIndex.Crawler.Engine;

/// <summary>
/// The crawler's entry point, called by <c>exposure crawl</c>:
/// <code>
/// await using var sink = await RecordSinks.OpenAsync(options);
/// var summary = await new CrawlRunner(loggerFactory).RunAsync(options, sink, progress, ct);
/// </code>
/// </summary>
public sealed class CrawlRunner
{
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private const int MaxLoggedDiagnostics = 50;
    private readonly IGrabNetwork _network;

    /// <param name="loggerFactory">Where log events go; none when null.</param>
    /// <param name="timeProvider">The clock for every timeout and timestamp; the system clock when null.</param>
    /// <param name="network">How probes and grabbers reach targets (after the first connect); real sockets when null.</param>
    public CrawlRunner(ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null, IGrabNetwork? network = null)
    {
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("ExposureIndex.Crawler");
        _time = timeProvider ?? TimeProvider.System;
        _network = network ?? SocketGrabNetwork.Instance;
    }

    /// <summary>
    /// Validates the options (every error at once: <see cref="CrawlOptionsException"/>), applies the address
    /// policy (all refused: <see cref="TargetsRefusedException"/>, before anything is sent), crawls, and
    /// completes <paramref name="sink"/>. Cancellation is not an error: in-flight grabs are drained, the sink is
    /// completed and the summary says <see cref="CrawlSummary.Cancelled"/>. A failing sink throws
    /// <see cref="CrawlSinkException"/>. The sink's own output settings in the options are not needed here.
    /// </summary>
    public async Task<CrawlSummary> RunAsync(CrawlOptions options, IRecordSink sink, IProgress<CrawlProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sink);
        var plan = CrawlPlan.Create(options, requireOutput: false, _time);

        foreach (var refusal in plan.Policy.Refusals)
        {
            CrawlerLog.Refused(_logger, refusal.Message);
        }

        if (plan.Policy.RefusalsOmitted > 0)
        {
            CrawlerLog.RefusalsOmitted(_logger, plan.Policy.RefusalsOmitted, CrawlEngine.Saturate(plan.Policy.RefusedAddresses));
        }

        if (!plan.Ports.Udp.IsEmpty)
        {
            CrawlerLog.UdpProbed(_logger, plan.Ports.Udp.ToString(), plan.UdpSpace.Count);
        }

        var catalog = ProbeCatalog.Create(options.ProbeFiles);
        var diagnostics = catalog.Diagnostics.Concat(options.ProbeFiles.Count > 0 ? catalog.CompileAll() : []).ToList();
        foreach (var diagnostic in diagnostics.Take(MaxLoggedDiagnostics))
        {
            CrawlerLog.ProbeDiagnostic(_logger, diagnostic.ToString());
        }

        if (diagnostics.Count > MaxLoggedDiagnostics)
        {
            CrawlerLog.ProbeDiagnosticsOmitted(_logger, diagnostics.Count - MaxLoggedDiagnostics);
        }

        CrawlerLog.ProbesLoaded(_logger, string.Join(", ", catalog.Files), catalog.Probes.Count, catalog.MatchCount, options.Intensity);
        CrawlerLog.Starting(_logger, plan.ScanId, CrawlEngine.Saturate(plan.Targets.TotalAddresses), plan.Ports.Tcp.Count,
            plan.TotalPairs, options.Concurrency, sink.Name);

        var engine = new CrawlEngine(plan, new ProbeMatcher(catalog), _network, _time, _logger);
        var summary = await engine.RunAsync(sink, progress, cancellationToken).ConfigureAwait(false);
        CrawlerLog.Finished(_logger, summary.ScanId, summary.Cancelled ? "cancelled" : "finished", summary.Attempted, summary.Open,
            summary.RecordsWritten, summary.RecordsAcknowledged, summary.RecordsRejected, summary.Elapsed);
        return summary;
    }
}
