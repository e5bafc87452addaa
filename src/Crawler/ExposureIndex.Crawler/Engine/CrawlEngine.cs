using System.Threading.Channels;
using ExposureIndex.Contracts.Json;
using ExposureIndex.Contracts.V1;
using ExposureIndex.Crawler.Options;
using ExposureIndex.Crawler.Fingerprinting;
using ExposureIndex.Crawler.Publishing;
using ExposureIndex.Crawler.Targeting;
using ExposureIndex.Grabbers;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Crawler.Engine;

/// <summary>
/// Runs a plan: a fixed pool of workers (the concurrency bound) takes targets from the work source, grabs them,
/// and queues records on a bounded channel; one batcher hands batches to the sink. Cancellation stops the
/// taking of new targets; grabs in flight finish (each within its own deadline), their records are written,
/// and the sink is completed (bounded by SinkCompleteTimeout). A failing sink stops the workers at once.
/// </summary>
/// <remarks>Later stages plug in at the worker loop: the rate limiter and per-/24 caps before a grab, the
/// permuted work source in place of the sequential one, a checkpoint from the work source's position.</remarks>
internal sealed class CrawlEngine(CrawlPlan plan, ProbeMatcher matcher, IGrabNetwork network, TimeProvider time, ILogger logger)
{
    private const int MaxLoggedLocalErrors = 20;
    private const int MaxLoggedRejections = 100;
    private int _loggedLocalErrors;

    public async Task<CrawlSummary> RunAsync(IRecordSink sink, IProgress<CrawlProgress>? progress, CancellationToken cancellationToken)
    {
        var options = plan.Options;
        var started = time.GetTimestamp();
        var stats = new CrawlStats();
        var source = new TransportWorkSource(new SequentialWorkSource(plan.Space), new SequentialWorkSource(plan.UdpSpace));
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
            HttpPorts = plan.HttpPorts,
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
        var grabber = new ServiceGrabber(
            new GrabSettings(options.ConnectTimeout, options.TargetDeadline, grabberLimits, plan.Scanner, plan.ScanId),
            matcher, scan, network, options.DeepGrab ? GrabberSelection.Select : GrabberSelection.None, time, logger);

        using var abort = new CancellationTokenSource();
        var channel = Channel.CreateBounded<ServiceRecord>(new BoundedChannelOptions(Math.Max(options.BatchSize * 2, 64))
        {
            SingleWriter = false,
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

        Exception? sinkFailure = null;
        var batcher = Task.Run(() => RunBatcherAsync(channel.Reader, sink, stats, abort.Token), CancellationToken.None);
        _ = batcher.ContinueWith(t =>
        {
            // Stop everything at once: workers blocked on a full channel see it closed.
            abort.Cancel();
            channel.Writer.TryComplete(t.Exception?.GetBaseException());
        }, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        using var drainNotice = cancellationToken.Register(() => CrawlerLog.Draining(logger, stats.InFlight));
        using var progressStop = new CancellationTokenSource();
        var reporter = progress is null ? Task.CompletedTask : ReportProgressAsync(progress, stats, sink, started, progressStop.Token);

        var workerCount = (int)Math.Min((ulong)options.Concurrency, plan.TotalPairs);
        var workers = new Task[workerCount];
        for (var i = 0; i < workerCount; i++)
        {
            workers[i] = Task.Run(() => WorkAsync(source, grabber, channel.Writer, stats, cancellationToken, abort.Token), CancellationToken.None);
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
        channel.Writer.TryComplete();
        try
        {
            await batcher.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The batcher ends only by completing the channel or by the sink throwing.
            sinkFailure = e;
        }

        SinkResult? final = null;
        if (sinkFailure is null)
        {
            // Completion runs even after cancellation (that is the drain), bounded by its own timeout.
            using var completeTimeout = new CancellationTokenSource(options.SinkCompleteTimeout, time);
            try
            {
                final = await sink.CompleteAsync(completeTimeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (completeTimeout.IsCancellationRequested)
            {
                sinkFailure = new TimeoutException($"{sink.Name} did not make its records durable within {options.SinkCompleteTimeout.TotalSeconds:0.###} s", e);
            }
            catch (Exception e)
            {
                sinkFailure = e;
            }
        }

        await progressStop.CancelAsync().ConfigureAwait(false);
        await reporter.ConfigureAwait(false);

        var elapsed = time.GetElapsedTime(started);
        var counts = final?.Counts ?? sink.Counts;
        var summary = new CrawlSummary
        {
            ScanId = plan.ScanId,
            Targets = Saturate(plan.Targets.TotalAddresses),
            TcpPorts = plan.Ports.Tcp.Count,
            UdpPorts = plan.Ports.Udp.Count,
            Planned = plan.TotalPairs,
            Attempted = stats.Attempted,
            Open = stats.Open,
            RecordsWritten = stats.Written,
            RecordsAcknowledged = counts.Acknowledged,
            RecordsRejected = counts.Rejected,
            Rejections = final?.Rejections ?? [],
            RefusedByPolicy = Saturate(plan.Policy.RefusedAddresses),
            Refusals = [.. plan.Policy.Refusals.Select(r => r.Message)],
            Outcomes = stats.Outcomes(),
            UdpNotProbed = plan.UdpNotProbed,
            Elapsed = elapsed,
            Cancelled = cancellationToken.IsCancellationRequested,
            Sink = sink.Name,
        };

        progress?.Report(new CrawlProgress(plan.TotalPairs, stats.Attempted, stats.Open, 0, stats.Written, counts.Acknowledged, elapsed));
        foreach (var rejection in summary.Rejections.Take(MaxLoggedRejections))
        {
            CrawlerLog.RecordRejected(logger, rejection.ToString());
        }

        if (sinkFailure is not null)
        {
            CrawlerLog.SinkFailed(logger, sinkFailure, sink.Name);
            throw new CrawlSinkException($"{sink.Name} failed: {sinkFailure.Message}", sinkFailure, summary);
        }

        return summary;
    }

    private async Task WorkAsync(TransportWorkSource source, ServiceGrabber grabber, ChannelWriter<ServiceRecord> records, CrawlStats stats,
        CancellationToken stop, CancellationToken abort)
    {
        // Bounded: the work source is finite and hands each target out once.
        while (!stop.IsCancellationRequested && !abort.IsCancellationRequested && source.TryTake(out var target, out var transport))
        {
            stats.Started();
            GrabAttempt attempt;
            try
            {
                attempt = await grabber.GrabAsync(target, transport, abort).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (abort.IsCancellationRequested)
            {
                stats.Abandoned();
                return;
            }
            catch (Exception e)
            {
                // A bug, not the network: count it, log it, keep crawling.
                CrawlerLog.GrabFailed(logger, e, Describe(target, transport));
                attempt = new GrabAttempt(target, GrabOutcome.Unknown, null, e.Message, Transport: transport);
            }

            stats.Finished(attempt);
            if (logger.IsEnabled(LogLevel.Debug))
            {
                CrawlerLog.Grabbed(logger, Describe(target, transport), BannerJson.OutcomeName(attempt.Outcome), attempt.Error);
            }

            if (attempt.LocalError && Interlocked.Increment(ref _loggedLocalErrors) <= MaxLoggedLocalErrors)
            {
                CrawlerLog.LocalSocketError(logger, target.ToString(), attempt.Error ?? string.Empty);
            }

            if (attempt.Record is { } record)
            {
                try
                {
                    await records.WriteAsync(record, abort).ConfigureAwait(false);
                }
                catch (Exception e) when (e is ChannelClosedException or OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task RunBatcherAsync(ChannelReader<ServiceRecord> records, IRecordSink sink, CrawlStats stats, CancellationToken abort)
    {
        var options = plan.Options;
        var batch = new List<ServiceRecord>(options.BatchSize);
        // Bounded: ends when the workers complete the channel; each pass hands over at least one record.
        while (await records.WaitToReadAsync(abort).ConfigureAwait(false))
        {
            var batchStarted = time.GetTimestamp();
            while (batch.Count < options.BatchSize)
            {
                while (batch.Count < options.BatchSize && records.TryRead(out var record))
                {
                    batch.Add(record);
                }

                var remaining = options.BatchInterval - time.GetElapsedTime(batchStarted);
                if (batch.Count >= options.BatchSize || remaining <= TimeSpan.Zero)
                {
                    break;
                }

                using var wait = new CancellationTokenSource(remaining, time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(wait.Token, abort);
                try
                {
                    if (!await records.WaitToReadAsync(linked.Token).ConfigureAwait(false))
                    {
                        break;
                    }
                }
                catch (OperationCanceledException) when (wait.IsCancellationRequested && !abort.IsCancellationRequested)
                {
                    break;
                }
            }

            if (batch.Count > 0)
            {
                await sink.WriteAsync(batch, abort).ConfigureAwait(false);
                stats.AddWritten(batch.Count);
                batch.Clear();
            }
        }
    }

    private async Task ReportProgressAsync(IProgress<CrawlProgress> progress, CrawlStats stats, IRecordSink sink, long started, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(plan.Options.ProgressInterval, time);
        try
        {
            // Bounded: ends when the crawl ends.
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                progress.Report(new CrawlProgress(plan.TotalPairs, stats.Attempted, stats.Open, stats.InFlight, stats.Written,
                    sink.Counts.Acknowledged, time.GetElapsedTime(started)));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private static string Describe(ScanTarget target, Transport transport) => transport == Transport.Udp ? $"{target}/udp" : target.ToString();

    internal static ulong Saturate(UInt128 value) => value > ulong.MaxValue ? ulong.MaxValue : (ulong)value;
}
