using System.Globalization;
using ExposureIndex.Crawler.Checkpointing;
using ExposureIndex.Crawler.Discovery;
using ExposureIndex.Crawler.Fingerprinting;
using ExposureIndex.Crawler.Fingerprinting.Probes;
using ExposureIndex.Crawler.Options;
using ExposureIndex.Crawler.Publishing;
using ExposureIndex.Crawler.Service;
using ExposureIndex.Crawler.Targeting;
using ExposureIndex.Grabbers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ExposureIndex.Crawler.Engine;

/// <summary>
/// The crawler's entry point, called by <c>exposure crawl</c> and the crawler service:
/// <code>
/// using var crawl = new CrawlRunner(loggerFactory).Prepare(options);   // every check, nothing sent yet
/// await using var sink = RecordSinks.Open(options);
/// var summary = await crawl.RunAsync(sink, progress, stop, abort);
/// </code>
/// </summary>
public sealed class CrawlRunner
{
    private const int MaxLoggedDiagnostics = 50;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
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
    /// Everything that can refuse a crawl, before anything is sent or any output is opened: the options (every
    /// error at once: <see cref="CrawlOptionsException"/>), the checkpoint (<see cref="CheckpointMismatchException"/>:
    /// unreadable, written for another plan, or an unfinished sweep without <see cref="CrawlOptions.Resume"/>), the
    /// address policy (all refused: <see cref="TargetsRefusedException"/>), and for <see cref="CrawlOptions.Syn"/>
    /// the raw socket (<see cref="SynUnavailableException"/>, saying how to get permission or to use the connect scan).
    /// Dispose the result if it is not run (it may hold a raw socket).
    /// </summary>
    public PreparedCrawl Prepare(CrawlOptions options)
    {
        var (plan, store, resumed) = PlanWithCheckpoint(options);
        foreach (var refusal in plan.Policy.Refusals)
        {
            CrawlerLog.Refused(_logger, refusal.Message);
        }

        if (plan.Policy.RefusalsOmitted > 0)
        {
            CrawlerLog.RefusalsOmitted(_logger, plan.Policy.RefusalsOmitted, CrawlEngine.Saturate(plan.Policy.RefusedAddresses));
        }

        SynScanner? syn = null;
        if (options.Syn && !SynScanner.TryCreate(new SynScanOptions { ReplyWait = options.ConnectTimeout, OpenRawSocket = options.OpenRawSocket }, _time, out syn, out var synError))
        {
            throw new SynUnavailableException(synError);
        }

        try
        {
            if (!plan.Ports.Udp.IsEmpty)
            {
                CrawlerLog.UdpProbed(_logger, plan.Ports.Udp.ToString(), plan.Targets.TotalAddresses * (UInt128)(uint)plan.Ports.Udp.Count > ulong.MaxValue
                    ? ulong.MaxValue
                    : (ulong)(plan.Targets.TotalAddresses * (UInt128)(uint)plan.Ports.Udp.Count));
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
            var engine = new CrawlEngine(plan, new ProbeMatcher(catalog), _network, _time, _logger, store, resumed, syn);
            if (resumed is not null)
            {
                CrawlerLog.Resuming(_logger, store!.Path, resumed.Position, resumed.Count);
            }

            CrawlerLog.SweepPlanned(_logger, plan.Sweep.Hash[..16], plan.Sweep.Shard.ToString(), plan.Sweep.Seed, plan.Sweep.Order.Count, engine.StartPosition,
                engine.Mode, options.Rate is { } rate ? rate.ToString("0.###", CultureInfo.InvariantCulture) + "/s" : "unlimited", options.MaxPerNetwork);
            return new PreparedCrawl(engine, _logger);
        }
        catch
        {
            syn?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Validates, plans and crawls, then completes <paramref name="sink"/> (see <see cref="Prepare"/> for what is
    /// refused). Cancellation is not an error: in-flight grabs are drained, the sink is completed and the summary
    /// says <see cref="CrawlSummary.Cancelled"/>. A failing sink throws <see cref="CrawlSinkException"/>.
    /// </summary>
    public async Task<CrawlSummary> RunAsync(CrawlOptions options, IRecordSink sink, IProgress<CrawlProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sink);
        using var crawl = Prepare(options);
        return await crawl.RunAsync(sink, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>--dry-run</c>: writes the plan to <paramref name="output"/>, one <c>ip:port/transport</c> per line in the order
    /// the crawl would visit (from the checkpoint's position with <see cref="CrawlOptions.Resume"/>), and the policy's
    /// refusals to <paramref name="refusals"/>. Sends nothing and opens no output. Returns the lines written.
    /// </summary>
    public ulong DryRun(CrawlOptions options, TextWriter output, TextWriter refusals, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(refusals);
        var (plan, _, resumed) = PlanWithCheckpoint(options with { OutputPath = null, IndexerUrl = null, SpoolDirectory = null });
        Targeting.DryRun.WriteRefusals(plan.Policy, refusals);
        return Targeting.DryRun.Write(plan.Sweep.Order, output, resumed?.Position ?? 0, cancellationToken);
    }

    /// <summary>The seed a dry run or crawl of <paramref name="options"/> uses: given, resumed, or null when it would be random.</summary>
    internal static ulong? KnownSeed(CrawlOptions options)
    {
        if (options.Seed is { } seed)
        {
            return seed;
        }

        return options.Resume && options.CheckpointPath is { } path && new CheckpointStore(path).TryLoad(out var checkpoint, out _) ? checkpoint!.Seed : null;
    }

    private (CrawlPlan Plan, CheckpointStore? Store, SweepCheckpoint? Resumed) PlanWithCheckpoint(CrawlOptions options)
    {
        var parsed = CrawlPlan.Validate(options, requireOutput: false);
        var store = options.CheckpointPath is { } path ? new CheckpointStore(path) : null;
        SweepCheckpoint? existing = null;
        if (store is not null && !store.TryLoad(out existing, out var error) && error.Length > 0)
        {
            throw new CheckpointMismatchException($"{error}; delete it to start the sweep over");
        }

        if (existing is not null && !options.Resume && !existing.IsFinished)
        {
            throw new CheckpointMismatchException(string.Create(CultureInfo.InvariantCulture,
                $"checkpoint {store!.Path} holds an unfinished sweep ({existing.Position} of {existing.Count} positions done, seed {existing.Seed}, shard {existing.Shard}); pass --resume to continue it, or delete the file to start over"));
        }

        var resumed = options.Resume ? existing : null;
        var plan = CrawlPlan.Build(options, parsed, _time, resumed: resumed);
        if (resumed?.MismatchWith(plan.Sweep) is { } mismatch)
        {
            throw new CheckpointMismatchException($"refusing to resume from {store!.Path}: {mismatch}. Run without --resume (or delete the file) to start over");
        }

        return (plan, store, resumed);
    }
}

/// <summary>
/// A crawl that passed every check (<see cref="CrawlRunner.Prepare"/>) and has not sent anything yet. Run it once.
/// </summary>
public sealed class PreparedCrawl : IDisposable
{
    private readonly CrawlEngine _engine;
    private readonly ILogger _logger;

    internal PreparedCrawl(CrawlEngine engine, ILogger logger)
    {
        _engine = engine;
        _logger = logger;
    }

    public string ScanId => _engine.Plan.ScanId;

    /// <summary>The permutation seed (given, resumed or random): every shard of the sweep must use it.</summary>
    public ulong Seed => _engine.Plan.Sweep.Seed;

    /// <summary><c>K/N</c>.</summary>
    public string Shard => _engine.Plan.Sweep.Shard.ToString();

    /// <summary><c>connect</c> or <c>syn</c>.</summary>
    public string Mode => _engine.Mode;

    /// <summary>Positions in this run's shard.</summary>
    public ulong Planned => _engine.Plan.Sweep.Order.Count;

    /// <summary>Where the run starts: the resumed checkpoint's position, or 0.</summary>
    public ulong StartPosition => _engine.StartPosition;

    /// <summary>Identifies the plan (targets after policy and exclusions, ports, seed, shard): a checkpoint resumes only the same hash.</summary>
    public string PlanHash => _engine.Plan.Sweep.Hash;

    /// <summary>One line per refused target or part of one (capped).</summary>
    public IReadOnlyList<string> Refusals => [.. _engine.Plan.Policy.Refusals.Select(r => r.Message)];

    internal CrawlEngine Engine => _engine;

    /// <summary>
    /// Crawls and completes <paramref name="sink"/>. <paramref name="stop"/> drains (no new targets; identification in
    /// flight finishes; records are flushed; the checkpoint is saved; the sink completes); <paramref name="abort"/>,
    /// after a stop, abandons identification in flight (the checkpoint stays before it). A failing sink throws
    /// <see cref="CrawlSinkException"/> with the summary so far.
    /// </summary>
    public Task<CrawlSummary> RunAsync(IRecordSink sink, IProgress<CrawlProgress>? progress = null, CancellationToken stop = default, CancellationToken abort = default)
        => RunAsync(sink, progress is null ? null : s => progress.Report(ToProgress(s)), stop, abort);

    internal async Task<CrawlSummary> RunAsync(IRecordSink sink, Action<SweepSnapshot>? onSnapshot, CancellationToken stop, CancellationToken abort)
    {
        ArgumentNullException.ThrowIfNull(sink);
        var plan = _engine.Plan;
        CrawlerLog.Starting(_logger, plan.ScanId, CrawlEngine.Saturate(plan.Targets.TotalAddresses), plan.Ports.Tcp.Count,
            plan.TotalPairs, plan.Options.Concurrency, sink.Name);
        var summary = await _engine.RunAsync(sink, onSnapshot, stop, abort).ConfigureAwait(false);
        CrawlerLog.Finished(_logger, summary.ScanId, summary.Cancelled ? "stopped" : "finished", summary.Attempted, summary.Open,
            summary.RecordsWritten, summary.RecordsAcknowledged, summary.RecordsRejected, summary.Elapsed);
        return summary;
    }

    internal SweepSnapshot Snapshot() => _engine.Snapshot();

    public void Dispose() => _engine.Dispose();

    private CrawlProgress ToProgress(SweepSnapshot s)
        => new(s.Planned, s.Attempted, s.Open, 0, s.RecordsWritten, s.RecordsAcknowledged, s.Elapsed, s.Done);
}
