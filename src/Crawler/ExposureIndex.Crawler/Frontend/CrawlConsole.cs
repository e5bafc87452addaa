using System.Globalization;
using System.Text;
using ExposureIndex.Crawler.Checkpointing;
using ExposureIndex.Crawler.Discovery;
using ExposureIndex.Crawler.Engine;
using ExposureIndex.Crawler.Options;
using ExposureIndex.Crawler.Publishing;
using ExposureIndex.Crawler.Service;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Crawler.Frontend;

/// <summary>How <see cref="CrawlConsole"/> talks to the person (or script) running the crawl.</summary>
public sealed record CrawlConsoleSettings
{
    /// <summary>No progress line; only the summary.</summary>
    public bool Quiet { get; init; }

    /// <summary>Print the plan instead of crawling (<c>--dry-run</c>).</summary>
    public bool DryRun { get; init; }

    /// <summary>After SIGTERM/SIGINT, how long the drain may take before in-flight work is abandoned (a second signal abandons it at once).</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Standard output (the plan, the summary); <see cref="Console.Out"/> when null.</summary>
    public TextWriter? Output { get; init; }

    /// <summary>Standard error (progress, refusals, hints); <see cref="Console.Error"/> when null.</summary>
    public TextWriter? Error { get; init; }

    /// <summary>Rewrite one progress line in place; by default when standard error is a terminal.</summary>
    public bool? Interactive { get; init; }

    /// <summary>Take SIGTERM and SIGINT: the first drains and checkpoints, the second abandons in-flight work.</summary>
    public bool HandleSignals { get; init; } = true;
}

/// <summary>How a crawl ended, as a process exit code and its account.</summary>
public sealed record CrawlConsoleResult(int ExitCode, CrawlSummary? Summary);

/// <summary>A crawl that cannot start, or that ended with records not delivered: one line, and the exit code it calls for.</summary>
public sealed class CrawlConsoleException : Exception
{
    public CrawlConsoleException()
    {
    }

    public CrawlConsoleException(string message)
        : base(message)
    {
    }

    public CrawlConsoleException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public CrawlConsoleException(string message, int exitCode, CrawlSummary? summary = null)
        : base(message)
    {
        ExitCode = exitCode;
        Summary = summary;
    }

    public int ExitCode { get; } = CrawlConsole.ExitFailed;

    public CrawlSummary? Summary { get; }
}

/// <summary>
/// <c>exposure crawl</c> as a user meets it: every check before anything is sent; a live progress line on a
/// terminal (done, rate, open found, ETA); SIGTERM drains and checkpoints, a second signal aborts; a summary on
/// standard output; machine-readable stats; and an exit code that is 0 only when the sweep is complete and every
/// record is acknowledged by the Indexer (or durable in the output file).
/// </summary>
public static class CrawlConsole
{
    public const int ExitOk = 0;
    public const int ExitFailed = 1;
    public const int ExitUsage = 2;
    public const int ExitInterrupted = 130;
    public const int ExitTerminated = 143;

    /// <summary>
    /// Runs (or with <see cref="CrawlConsoleSettings.DryRun"/> plans) one crawl. Refusals that send nothing
    /// (bad options, refused targets, no raw sockets for SYN, a checkpoint of another plan) throw
    /// <see cref="CrawlConsoleException"/> with exit code 2; undelivered records throw it with exit code 1 (they
    /// are safe in the spool the message names). Cancelling <paramref name="cancellationToken"/> drains like SIGTERM.
    /// </summary>
    public static async Task<CrawlConsoleResult> RunAsync(CrawlOptions options, CrawlConsoleSettings settings, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var output = settings.Output ?? Console.Out;
        var error = settings.Error ?? Console.Error;
        var runner = new CrawlRunner(loggerFactory);
        if (settings.DryRun)
        {
            return DryRun(runner, options, output, error, cancellationToken);
        }

        PreparedCrawl crawl;
        try
        {
            crawl = runner.Prepare(options);
        }
        catch (Exception e) when (Refusal(e) is { } message)
        {
            throw new CrawlConsoleException(message, ExitUsage);
        }

        using (crawl)
        {
            return await CrawlAsync(crawl, options, settings, loggerFactory, output, error, cancellationToken).ConfigureAwait(false);
        }
    }

    private static CrawlConsoleResult DryRun(CrawlRunner runner, CrawlOptions options, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        // Millions of lines: standard output through one large buffer (DryRun.Write flushes it at the end).
        using var stdout = ReferenceEquals(output, Console.Out) ? Console.OpenStandardOutput() : null;
        using var buffered = stdout is null ? null : new StreamWriter(stdout, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { AutoFlush = false };
        var plan = buffered ?? output;
        try
        {
            var seed = CrawlRunner.KnownSeed(options);
            var written = runner.DryRun(options, plan, error, cancellationToken);
            if (seed is null)
            {
                error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"dry run: {written:N0} targets in a random order; nothing was sent (give --seed to plan the order a crawl will use)"));
            }

            return new CrawlConsoleResult(ExitOk, null);
        }
        catch (Exception e) when (Refusal(e) is { } message)
        {
            throw new CrawlConsoleException(message, ExitUsage);
        }
    }

    private static async Task<CrawlConsoleResult> CrawlAsync(PreparedCrawl crawl, CrawlOptions options, CrawlConsoleSettings settings, ILoggerFactory loggerFactory,
        TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        using var shutdown = new GracefulShutdown(settings.DrainTimeout, TimeProvider.System, settings.HandleSignals);
        using var linked = cancellationToken.Register(() => shutdown.Drain("cancelled"));
        var interactive = !settings.Quiet && (settings.Interactive ?? !Console.IsErrorRedirected);
        var reporter = settings.Quiet ? null : new ProgressReporter(error, interactive);
        var progressGate = new Lock();
        Action<SweepSnapshot>? onSnapshot = reporter is null ? null : s =>
        {
            lock (progressGate)
            {
                reporter.Report(s);
            }
        };

        CrawlSummary? summary = null;
        string? failure = null;
        try
        {
            await using var sink = RecordSinks.Open(options, loggerFactory);
            summary = await crawl.RunAsync(sink, onSnapshot, shutdown.Stopping, shutdown.Aborting).ConfigureAwait(false);
        }
        catch (CrawlSinkException e)
        {
            summary = e.Summary;
            failure = e.InnerException is SpoolNotDrainedException spool
                ? $"{spool.PendingRecords:N0} records were not acknowledged by the Indexer in time; they are safe in the spool {spool.SpoolDirectory} and are delivered by the next crawl given --spool {spool.SpoolDirectory}"
                : "records were not all delivered: " + e.Message;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CrawlConsoleException($"cannot open the output: {e.Message}", ExitFailed);
        }
        finally
        {
            lock (progressGate)
            {
                reporter?.EndLine();
            }
        }

        var snapshot = crawl.Snapshot();
        if (options.StatsPath is { } statsPath)
        {
            WriteStats(statsPath, snapshot, error);
        }

        if (summary is not null)
        {
            PrintSummary(output, summary, snapshot);
        }

        var stopped = shutdown.Stopping.IsCancellationRequested;
        if (stopped || summary is { Complete: false })
        {
            PrintResumeHint(error, options, summary, snapshot);
        }

        if (failure is not null)
        {
            if (stopped)
            {
                error.WriteLine("exposure: " + failure);
                return new CrawlConsoleResult(StopCode(shutdown), summary);
            }

            throw new CrawlConsoleException(failure, ExitFailed, summary);
        }

        if (stopped)
        {
            return new CrawlConsoleResult(StopCode(shutdown), summary);
        }

        if (summary!.RecordsRejected > 0)
        {
            foreach (var rejection in summary.Rejections.Take(10))
            {
                error.WriteLine("  rejected " + rejection);
            }

            throw new CrawlConsoleException(string.Create(CultureInfo.InvariantCulture,
                $"{summary.RecordsRejected:N0} records were rejected by the Indexer (reasons above); the crawl is not complete"), ExitFailed, summary);
        }

        return new CrawlConsoleResult(summary.Complete ? ExitOk : ExitFailed, summary);
    }

    private static int StopCode(GracefulShutdown shutdown) => shutdown.Reason == "SIGTERM" ? ExitTerminated : ExitInterrupted;

    /// <summary>The one-line message of an error that stops a crawl before anything is sent; null for anything else.</summary>
    private static string? Refusal(Exception e) => e switch
    {
        CrawlOptionsException options => string.Join("; ", options.Errors.Select(x => x.ToString())),
        TargetsRefusedException refused => refused.Message,
        SynUnavailableException syn => syn.Message,
        CheckpointMismatchException checkpoint => checkpoint.Message,
        _ => null,
    };

    private static void PrintSummary(TextWriter output, CrawlSummary s, SweepSnapshot snapshot)
    {
        var line = new StringBuilder();
        line.Append(CultureInfo.InvariantCulture,
            $"crawl {s.ScanId}: {s.Attempted:N0} probes of {s.Planned:N0} in {s.Elapsed.TotalSeconds:F1}s, {s.Open:N0} open, {s.RecordsAcknowledged:N0}/{s.RecordsWritten:N0} records delivered to {s.Sink}");
        if (s.RecordsRejected > 0)
        {
            line.Append(CultureInfo.InvariantCulture, $", {s.RecordsRejected:N0} rejected");
        }

        if (s.RefusedByPolicy > 0)
        {
            line.Append(CultureInfo.InvariantCulture, $", {s.RefusedByPolicy:N0} addresses refused by policy");
        }

        if (s.Cancelled)
        {
            line.Append(" (stopped)");
        }

        output.WriteLine(line.ToString());
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {ProgressReporter.FormatSummary(snapshot)}; shard {s.Shard}, seed {s.Seed}"));
        output.Flush();
    }

    private static void PrintResumeHint(TextWriter error, CrawlOptions options, CrawlSummary? summary, SweepSnapshot snapshot)
    {
        if (snapshot.Done == snapshot.Planned)
        {
            return;
        }

        if (options.CheckpointPath is { } path && summary?.CheckpointPosition is { } position)
        {
            error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"checkpoint {Path.GetFullPath(path)} saved at {position:N0} of {snapshot.Planned:N0} positions: run the same command with --resume to continue"));
        }
        else if (options.CheckpointPath is null)
        {
            error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"stopped at {snapshot.Done:N0} of {snapshot.Planned:N0} positions; without --checkpoint FILE this sweep cannot be resumed"));
        }

        error.Flush();
    }

    private static void WriteStats(string path, SweepSnapshot snapshot, TextWriter error)
    {
        var seconds = snapshot.Elapsed.TotalSeconds;
        var rate = seconds > 0 ? (snapshot.Done - snapshot.ResumedFrom) / seconds : 0;
        try
        {
            DurableFile.WriteAtomically(path, Encoding.UTF8.GetBytes(ProgressReporter.StatsJson(snapshot, rate) + "\n"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"exposure: cannot write stats to {path}: {e.Message}");
        }
    }
}
