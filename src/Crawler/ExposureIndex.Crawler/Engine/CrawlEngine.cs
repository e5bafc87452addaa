using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using ExposureIndex.Contracts.Json;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Checkpointing;
using ExposureIndex.Crawler.Discovery;
using ExposureIndex.Crawler.Fingerprinting;
using ExposureIndex.Crawler.Options;
using ExposureIndex.Crawler.Publishing;
using ExposureIndex.Crawler.RateLimiting;
using ExposureIndex.Crawler.Service;
using ExposureIndex.Crawler.Targeting;
using ExposureIndex.Grabbers;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Crawler.Engine;

/// <summary>One target handed from discovery to identification, with the ticket the checkpoint waits for.</summary>
/// <param name="Target">The triple to identify.</param>
/// <param name="Handoff">The open connection and the slots it holds, or null (identification connects and takes slots itself).</param>
/// <param name="CountsAsAttempt">Discovery did not try it (UDP; IPv6 or UDP under SYN): this is the attempt.</param>
/// <param name="Ticket">See <see cref="WorkTickets"/>.</param>
internal sealed record IdentifyJob(ScanTriple Target, Handoff? Handoff, bool CountsAsAttempt, long Ticket);

/// <summary>
/// Runs a plan end to end. Discovery walks the shard's seeded order behind the global rate limit, the per-network cap
/// and the connection budget: the epoll connect engine on Linux (the managed scanner elsewhere), or the stateless SYN
/// scanner. Every open port - with its connection, when discovery made one - and every triple discovery cannot probe
/// (UDP; IPv6 under SYN) becomes an <see cref="IdentifyJob"/>; a pool of workers identifies them (probe engine, deep
/// grabbers) and queues records for one batcher, which hands batches to the sink. Closed and silent ports are only
/// counted.
/// </summary>
/// <remarks>
/// Checkpoints never pass a record that could still be lost: discovery completes a position only after it has handed
/// the position's job over, and each save takes the low-water mark, then waits for every job handed over so far
/// (<see cref="WorkTickets"/>), then for the sink's flush (acknowledged, spooled or fsynced), then writes the file.
/// Stopping (<c>stop</c>) drains: discovery takes no new positions and finishes the connects in flight, every queued
/// job is identified, the batcher writes everything, the final checkpoint is saved at the low-water mark (which then
/// covers every position taken), and the sink completes. Aborting (<c>abort</c>) abandons identification: those
/// jobs' tickets are lost, so no further checkpoint is written and a resumed sweep redoes them; the records already
/// queued are still written, and the sink spools what it cannot deliver. A failing sink aborts everything.
/// </remarks>
internal sealed class CrawlEngine : IDisposable
{
    private const int MaxLoggedLocalErrors = 20;
    private const int MaxLoggedRejections = 100;

    private readonly CrawlPlan _plan;
    private readonly ProbeMatcher _matcher;
    private readonly IGrabNetwork _network;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CheckpointStore? _store;
    private readonly SweepCheckpoint? _resumed;
    private readonly SynScanner? _syn;
    private readonly CrawlStats _stats = new();
    private SweepCursor? _cursor;
    private IRecordSink? _sink;
    private DiscoveryCounters? _discovery;
    private long _startedAt;
    private int _loggedLocalErrors;
    private int _running;
    private bool _cancelled;
    private TimeSpan? _elapsed;

    public CrawlEngine(CrawlPlan plan, ProbeMatcher matcher, IGrabNetwork network, TimeProvider time, ILogger logger,
        CheckpointStore? store = null, SweepCheckpoint? resumed = null, SynScanner? syn = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        _plan = plan;
        _matcher = matcher;
        _network = network;
        _time = time;
        _logger = logger;
        _store = store;
        _resumed = resumed;
        _syn = syn;
        StartPosition = resumed?.Position ?? 0;
    }

    public CrawlPlan Plan => _plan;

    public string Mode => _syn is null ? "connect" : "syn";

    /// <summary>Where this run starts in its shard: the resumed checkpoint's position, or 0.</summary>
    public ulong StartPosition { get; }

    /// <summary>The last checkpoint written by this run.</summary>
    public SweepCheckpoint? LastCheckpoint { get; private set; }

    /// <summary>A reading of the running (or finished) crawl, for progress lines, stats, metrics and health.</summary>
    public SweepSnapshot Snapshot()
    {
        var counts = _sink?.Counts ?? default;
        var discovery = _discovery;
        var attempted = (discovery?.Attempted ?? 0) + _stats.JobAttempts;
        return new SweepSnapshot
        {
            Mode = Mode,
            Shard = _plan.Sweep.Shard.ToString(),
            Planned = _plan.Sweep.Order.Count,
            Done = _cursor?.LowWater ?? StartPosition,
            ResumedFrom = StartPosition,
            Attempted = attempted,
            Open = _stats.Open + (_resumed?.Open ?? 0),
            Closed = discovery?.Closed ?? 0,
            Filtered = Unanswered(),
            RecordsWritten = _stats.Written,
            RecordsAcknowledged = counts.Acknowledged,
            RecordsRejected = counts.Rejected,
            Spooled = (_sink as ResilientSink)?.SpooledRecords ?? 0,
            Elapsed = _elapsed ?? (_startedAt == 0 ? TimeSpan.Zero : _time.GetElapsedTime(_startedAt)),
            RateLimit = _plan.Options.Rate,
            Cancelled = _cancelled,
            ScanId = _plan.ScanId,
            Seed = _plan.Sweep.Seed,
        };
    }

    public void Dispose() => _syn?.Dispose();

    /// <summary>Runs the crawl once; see the class remarks for stop, abort and failure.</summary>
    public async Task<CrawlSummary> RunAsync(IRecordSink sink, Action<SweepSnapshot>? onSnapshot, CancellationToken stop, CancellationToken abort = default)
    {
        ArgumentNullException.ThrowIfNull(sink);
        if (Interlocked.Exchange(ref _running, 1) != 0)
        {
            throw new InvalidOperationException("a crawl engine runs once");
        }

        var options = _plan.Options;
        _sink = sink;
        _startedAt = _time.GetTimestamp();
        var order = _plan.Sweep.Order;
        var cursor = _cursor = new SweepCursor(order, StartPosition);
        var grabber = CreateGrabber();
        using var budget = new ConnectionBudget(options.Concurrency);
        var networks = options.MaxPerNetwork > 0 ? new NetworkConcurrencyLimiter(options.MaxPerNetwork) : null;
        var rate = options.Rate is { } perSecond ? TokenBucket.PerSecond(perSecond, _time) : null;
        var tickets = new WorkTickets();
        using var sinkFailed = new CancellationTokenSource();
        using var jobAbort = CancellationTokenSource.CreateLinkedTokenSource(abort, sinkFailed.Token);
        using var feederStop = CancellationTokenSource.CreateLinkedTokenSource(stop, jobAbort.Token);

        var jobs = Channel.CreateUnbounded<IdentifyJob>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
        var records = Channel.CreateBounded<(ServiceRecord Record, long Ticket)>(new BoundedChannelOptions(Math.Max(options.BatchSize * 2, 64))
        {
            SingleWriter = false,
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

        var batcher = Task.Run(() => RunBatcherAsync(records.Reader, sink, tickets), CancellationToken.None);
        _ = batcher.ContinueWith(t =>
        {
            // Stop everything at once: the records of the failed batch and those queued behind it are lost to this run.
            sinkFailed.Cancel();
            records.Writer.TryComplete(t.Exception?.GetBaseException());
            tickets.Lose(-1, $"the sink failed: {t.Exception?.GetBaseException().Message}");
        }, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        using var drainNotice = stop.Register(() =>
        {
            _cancelled = true;
            CrawlerLog.Draining(_logger, _stats.InFlight);
        });
        using var abortNotice = abort.Register(() =>
        {
            _cancelled = true;
            CrawlerLog.Aborting(_logger, _stats.InFlight);
        });

        var remaining = order.Count - StartPosition;
        var workerCount = (int)Math.Max(1, Math.Min((ulong)options.Concurrency, remaining));
        var workers = new Task[workerCount];
        for (var i = 0; i < workerCount; i++)
        {
            workers[i] = Task.Run(() => IdentifyLoopAsync(jobs.Reader, grabber, budget, networks, records.Writer, tickets, jobAbort.Token), CancellationToken.None);
        }

        var writer = _store is null
            ? null
            : new CheckpointWriter(_store, _plan.Sweep, cursor, async ct =>
            {
                // The durability barrier: every target handed to identification so far is finished and its record
                // written, then everything written is acknowledged, spooled or fsynced.
                await tickets.WaitAsync(tickets.Issued, ct).ConfigureAwait(false);
                await sink.FlushAsync(ct).ConfigureAwait(false);
            }, () => (_stats.Open, _stats.Written), _time, _resumed, _plan.ScanId);

        using var checkpointStop = new CancellationTokenSource();
        using var progressStop = new CancellationTokenSource();
        var reporter = onSnapshot is null ? Task.CompletedTask : ReportAsync(onSnapshot, progressStop.Token);
        Task checkpoints = Task.CompletedTask;
        if (writer is not null)
        {
            // At once, so a kill before the first interval still leaves the seed (and the scan id) to resume with.
            LastCheckpoint = await writer.SaveAsync(CancellationToken.None).ConfigureAwait(false);
            checkpoints = writer.RunAsync(options.CheckpointInterval, e => CrawlerLog.CheckpointFailed(_logger, e, _store!.Path), checkpointStop.Token);
        }

        Exception? feederFailure = null;
        var queueLimit = Math.Max(1024, options.Concurrency * 4);
        try
        {
            await RunDiscoveryAsync(cursor, rate, networks, budget, r => OnDiscovery(r, jobs, tickets, queueLimit, jobAbort.Token), feederStop.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Discovery itself broke (epoll, raw socket): what it handed over is still identified and written.
            feederFailure = e;
        }

        jobs.Writer.TryComplete();
        await Task.WhenAll(workers).ConfigureAwait(false);
        // Bounded: the channel is complete; what is left was never started (an abort).
        while (jobs.Reader.TryRead(out var left))
        {
            left.Handoff?.Dispose();
            tickets.Lose(left.Ticket, "stopped before identification began");
        }

        records.Writer.TryComplete();
        Exception? sinkFailure = null;
        try
        {
            await batcher.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The batcher ends only by completing the channel or by the sink throwing.
            sinkFailure = e;
        }

        await checkpointStop.CancelAsync().ConfigureAwait(false);
        await checkpoints.ConfigureAwait(false);
        if (writer is not null)
        {
            LastCheckpoint = writer.Last ?? LastCheckpoint;
            if (sinkFailure is null)
            {
                try
                {
                    // The drain is over: this save covers everything that finished.
                    LastCheckpoint = await writer.SaveAsync(abort).ConfigureAwait(false);
                }
                catch (Exception e) when (e is WorkLostException or OperationCanceledException)
                {
                    CrawlerLog.CheckpointKept(_logger, _store!.Path, LastCheckpoint?.Position ?? StartPosition, e.Message);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    CrawlerLog.CheckpointFailed(_logger, e, _store!.Path);
                }
            }
        }

        SinkResult? final = null;
        if (sinkFailure is null)
        {
            // Completion runs even after a stop (that is the drain), bounded by its own timeout and by an abort.
            using var completeTimeout = new CancellationTokenSource(options.SinkCompleteTimeout, _time);
            using var completeToken = CancellationTokenSource.CreateLinkedTokenSource(completeTimeout.Token, abort);
            try
            {
                final = await sink.CompleteAsync(completeToken.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (completeToken.IsCancellationRequested)
            {
                sinkFailure = new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                    $"{sink.Name} did not make its records durable within {options.SinkCompleteTimeout.TotalSeconds:0.###} s"), e);
            }
            catch (Exception e)
            {
                sinkFailure = e;
            }
        }

        await progressStop.CancelAsync().ConfigureAwait(false);
        await reporter.ConfigureAwait(false);
        _elapsed = _time.GetElapsedTime(_startedAt);
        _cancelled |= stop.IsCancellationRequested || abort.IsCancellationRequested;

        var summary = Summarize(sink, final);
        onSnapshot?.Invoke(Snapshot());
        foreach (var rejection in summary.Rejections.Take(MaxLoggedRejections))
        {
            CrawlerLog.RecordRejected(_logger, rejection.ToString());
        }

        if (sinkFailure is not null)
        {
            CrawlerLog.SinkFailed(_logger, sinkFailure, sink.Name);
            throw new CrawlSinkException($"{sink.Name} failed: {sinkFailure.Message}", sinkFailure, summary);
        }

        if (feederFailure is not null)
        {
            ExceptionDispatchInfo.Throw(feederFailure);
        }

        return summary;
    }

    private ServiceGrabber CreateGrabber()
    {
        var options = _plan.Options;
        var userAgent = $"{options.UserAgent} (+{options.ContactUrl.AbsoluteUri})";
        var scan = new ScanSettings
        {
            Intensity = options.Intensity,
            BannerWait = options.BannerWait,
            TalkFirstGrace = options.BannerWait < ScanDefaults.TalkFirstGrace ? options.BannerWait : ScanDefaults.TalkFirstGrace,
            ProbeWait = options.ReadTimeout,
            QuietGap = options.ReadTimeout < ScanDefaults.QuietGap ? options.ReadTimeout : ScanDefaults.QuietGap,
            MaxResponseBytes = options.MaxBannerBytes,
            MaxParallelProbes = options.MaxParallelProbes,
            HttpPorts = _plan.HttpPorts,
            UserAgent = userAgent,
            Limits = new GrabLimits
            {
                ConnectTimeout = options.ConnectTimeout,
                // Waits are the engine's; the connection's own read timeout only backs them up.
                ReadTimeout = options.BannerWait + options.ReadTimeout,
                TotalDeadline = options.TargetDeadline,
                MaxBytesPerConnection = options.MaxBannerBytes + (32 * 1024),
                UserAgent = userAgent,
            },
        };
        var grabberLimits = new GrabLimits
        {
            ConnectTimeout = options.ConnectTimeout,
            ReadTimeout = options.ReadTimeout,
            TotalDeadline = options.TargetDeadline,
            MaxBytesPerConnection = Math.Max(options.MaxBannerBytes, 256 * 1024),
            UserAgent = userAgent,
        };
        return new ServiceGrabber(
            new GrabSettings(options.ConnectTimeout, options.TargetDeadline, grabberLimits, _plan.Scanner, _plan.ScanId),
            _matcher, scan, _network, options.DeepGrab ? GrabberSelection.Select : GrabberSelection.None, _time, _logger);
    }

    private Task RunDiscoveryAsync(SweepCursor cursor, TokenBucket? rate, NetworkConcurrencyLimiter? networks, ConnectionBudget budget,
        Action<DiscoveryResult> onResult, CancellationToken stop)
    {
        if (_syn is { } syn)
        {
            _discovery = syn.Counters;
            return syn.RunAsync(cursor, rate, onResult, stop);
        }

        var options = _plan.Options;
        var connect = new ConnectScanOptions
        {
            Concurrency = options.Concurrency,
            ConnectTimeout = options.ConnectTimeout,
            UseEpoll = options.UseEpoll,
            HandOff = true,
        };
        if (options.UseEpoll && EpollConnectScanner.IsSupported)
        {
            var scanner = new EpollConnectScanner(connect, rate, networks, _time, budget);
            _discovery = scanner.Counters;
            return scanner.RunAsync(cursor, onResult, stop);
        }

        var managed = new ConnectScanner(connect, rate, networks, _time, budget);
        _discovery = managed.Counters;
        return managed.RunAsync(cursor, r =>
        {
            onResult(r);
            return ValueTask.CompletedTask;
        }, stop);
    }

    /// <summary>Discovery's answers, on its own threads: open ports and unprobed triples become jobs, the rest is counted.</summary>
    private void OnDiscovery(DiscoveryResult result, Channel<IdentifyJob> jobs, WorkTickets tickets, int queueLimit, CancellationToken abort)
    {
        switch (result.State)
        {
            case PortState.Open:
            case PortState.Unsupported:
                if (result.Handoff is null && result.State == PortState.Unsupported)
                {
                    // The SYN sender: its jobs hold no budget slot, so the queue is bounded here (the sender may block).
                    // Bounded: ends when identification catches up or on abort.
                    while (jobs.Reader.Count > queueLimit && !abort.IsCancellationRequested)
                    {
                        Thread.Sleep(1);
                    }
                }

                var job = new IdentifyJob(result.Target, result.Handoff, result.State == PortState.Unsupported, tickets.Issue());
                if (!jobs.Writer.TryWrite(job))
                {
                    job.Handoff?.Dispose();
                    tickets.Lose(job.Ticket, "identification had already ended");
                }

                break;
            case PortState.Closed:
                _stats.Outcome(GrabOutcome.Refused);
                break;
            case PortState.Filtered:
                _stats.Outcome(GrabOutcome.ConnectTimeout);
                break;
            case PortState.LocalError:
                _stats.Outcome(GrabOutcome.Unknown);
                if (Interlocked.Increment(ref _loggedLocalErrors) <= MaxLoggedLocalErrors)
                {
                    CrawlerLog.LocalSocketError(_logger, result.Target.ToString(), result.Error ?? string.Empty);
                }

                break;
            default:
                // Unreachable: the network said no route (ICMP); not a timeout and not a refusal.
                _stats.Outcome(GrabOutcome.Unknown);
                break;
        }
    }

    private async Task IdentifyLoopAsync(ChannelReader<IdentifyJob> jobs, ServiceGrabber grabber, ConnectionBudget budget, NetworkConcurrencyLimiter? networks,
        ChannelWriter<(ServiceRecord Record, long Ticket)> records, WorkTickets tickets, CancellationToken abort)
    {
        try
        {
            // Bounded: ends when discovery has finished and the queue is empty, or on abort.
            while (await jobs.WaitToReadAsync(abort).ConfigureAwait(false))
            {
                while (!abort.IsCancellationRequested && jobs.TryRead(out var job))
                {
                    await IdentifyAsync(job, grabber, budget, networks, records, tickets, abort).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
        }
    }

    private async Task IdentifyAsync(IdentifyJob job, ServiceGrabber grabber, ConnectionBudget budget, NetworkConcurrencyLimiter? networks,
        ChannelWriter<(ServiceRecord Record, long Ticket)> records, WorkTickets tickets, CancellationToken abort)
    {
        var handoff = job.Handoff ?? Handoff.ForSlot(null);
        var target = job.Target.Target;
        var transport = job.Target.Transport;
        _stats.JobStarted();
        GrabAttempt attempt;
        try
        {
            // Targets discovery did not connect to take their slots here: the budget, then their network's cap.
            if (!handoff.HoldsBudget)
            {
                await budget.AcquireAsync(abort).ConfigureAwait(false);
                handoff.Attach(budget);
            }

            if (networks is not null && !handoff.HoldsLease)
            {
                handoff.Attach(await networks.AcquireAsync(job.Target, abort).ConfigureAwait(false));
            }

            if (job.CountsAsAttempt)
            {
                _stats.JobAttempt();
            }

            attempt = handoff.HasConnection
                ? await grabber.GrabConnectedAsync(target, handoff.TakeSocket(), abort).ConfigureAwait(false)
                : await grabber.GrabAsync(target, transport, abort).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            _stats.Abandoned();
            tickets.Lose(job.Ticket, "stopped during identification");
            return;
        }
        catch (Exception e)
        {
            // A bug, not the network: count it, log it, keep crawling.
            CrawlerLog.GrabFailed(_logger, e, Describe(target, transport));
            attempt = new GrabAttempt(target, GrabOutcome.Unknown, null, e.Message, Transport: transport);
        }
        finally
        {
            handoff.Dispose();
        }

        _stats.Finished(attempt);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            CrawlerLog.Grabbed(_logger, Describe(target, transport), BannerJson.OutcomeName(attempt.Outcome), attempt.Error);
        }

        if (attempt.LocalError && Interlocked.Increment(ref _loggedLocalErrors) <= MaxLoggedLocalErrors)
        {
            CrawlerLog.LocalSocketError(_logger, target.ToString(), attempt.Error ?? string.Empty);
        }

        if (attempt.Record is not { } record)
        {
            tickets.Done(job.Ticket);
            return;
        }

        try
        {
            // Not cancelled by an abort: the batcher keeps writing, so a record that exists reaches the sink (or its spool).
            await records.WriteAsync((record, job.Ticket), CancellationToken.None).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            tickets.Lose(job.Ticket, "the sink failed");
        }
    }

    private async Task RunBatcherAsync(ChannelReader<(ServiceRecord Record, long Ticket)> records, IRecordSink sink, WorkTickets tickets)
    {
        var options = _plan.Options;
        var batch = new List<ServiceRecord>(options.BatchSize);
        var batchTickets = new List<long>(options.BatchSize);
        // Bounded: ends when the workers complete the channel; each pass hands over at least one record.
        while (await records.WaitToReadAsync().ConfigureAwait(false))
        {
            var batchStarted = _time.GetTimestamp();
            while (batch.Count < options.BatchSize)
            {
                while (batch.Count < options.BatchSize && records.TryRead(out var item))
                {
                    batch.Add(item.Record);
                    batchTickets.Add(item.Ticket);
                }

                var remaining = options.BatchInterval - _time.GetElapsedTime(batchStarted);
                if (batch.Count >= options.BatchSize || remaining <= TimeSpan.Zero)
                {
                    break;
                }

                using var wait = new CancellationTokenSource(remaining, _time);
                try
                {
                    if (!await records.WaitToReadAsync(wait.Token).ConfigureAwait(false))
                    {
                        break;
                    }
                }
                catch (OperationCanceledException) when (wait.IsCancellationRequested)
                {
                    break;
                }
            }

            if (batch.Count > 0)
            {
                await sink.WriteAsync(batch, CancellationToken.None).ConfigureAwait(false);
                _stats.AddWritten(batch.Count);
                foreach (var ticket in batchTickets)
                {
                    tickets.Done(ticket);
                }

                batch.Clear();
                batchTickets.Clear();
            }
        }
    }

    private async Task ReportAsync(Action<SweepSnapshot> onSnapshot, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_plan.Options.ProgressInterval, _time);
        try
        {
            // Bounded: ends when the crawl ends.
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                onSnapshot(Snapshot());
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>SYN probes nobody answered (the connect engines count their timeouts themselves).</summary>
    private long Unanswered()
    {
        var discovery = _discovery;
        if (discovery is null)
        {
            return 0;
        }

        if (_syn is null)
        {
            return discovery.Filtered;
        }

        // Replies still to come count as unanswered until they arrive; at the end the figure is exact.
        return Math.Max(0, discovery.Attempted - discovery.Open - discovery.Closed - discovery.LocalErrors);
    }

    private CrawlSummary Summarize(IRecordSink sink, SinkResult? final)
    {
        var snapshot = Snapshot();
        var counts = final?.Counts ?? sink.Counts;
        var resilient = sink as ResilientSink;
        return new CrawlSummary
        {
            ScanId = _plan.ScanId,
            Targets = Saturate(_plan.Targets.TotalAddresses),
            TcpPorts = _plan.Ports.Tcp.Count,
            UdpPorts = _plan.Ports.Udp.Count,
            Planned = _plan.TotalPairs,
            Attempted = snapshot.Attempted,
            Open = _stats.Open,
            RecordsWritten = _stats.Written,
            RecordsAcknowledged = counts.Acknowledged,
            RecordsRejected = counts.Rejected,
            Rejections = final?.Rejections ?? [],
            RefusedByPolicy = Saturate(_plan.Policy.RefusedAddresses),
            Refusals = [.. _plan.Policy.Refusals.Select(r => r.Message)],
            Outcomes = _stats.Outcomes(_syn is null ? 0 : Unanswered()),
            UdpNotProbed = _plan.UdpNotProbed,
            Elapsed = snapshot.Elapsed,
            Cancelled = snapshot.Cancelled,
            Sink = sink.Name,
            Mode = Mode,
            Shard = snapshot.Shard,
            Seed = _plan.Sweep.Seed,
            ResumedFrom = StartPosition,
            Done = snapshot.Done,
            Closed = snapshot.Closed,
            Filtered = snapshot.Filtered,
            Spooled = resilient?.SpooledRecords ?? 0,
            SpoolDirectory = resilient?.SpoolDirectory,
            Checkpoint = _store?.Path,
            CheckpointPosition = LastCheckpoint?.Position,
            RateLimit = _plan.Options.Rate,
        };
    }

    private static string Describe(ScanTarget target, Transport transport) => transport == Transport.Udp ? $"{target}/udp" : target.ToString();

    internal static ulong Saturate(UInt128 value) => value > ulong.MaxValue ? ulong.MaxValue : (ulong)value;
}
