using Microsoft.Extensions.Logging;

namespace ExposureIndex.Crawler.Engine;

/// <summary>The crawler's log events; ids 2100-2199 are stable.</summary>
internal static partial class CrawlerLog
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Crawl {ScanId} starting: {Targets} addresses x {Ports} TCP ports = {Planned} attempts, concurrency {Concurrency}, sink {Sink}")]
    public static partial void Starting(ILogger logger, string scanId, ulong targets, int ports, ulong planned, int concurrency, string sink);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "{Refusal}")]
    public static partial void Refused(ILogger logger, string refusal);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "{Count} more refusals not listed; {Addresses} addresses refused in all")]
    public static partial void RefusalsOmitted(ILogger logger, int count, ulong addresses);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Information, Message = "UDP ports {Ports}: {Pairs} ip:port pairs get the UDP probes; only those that answer produce records")]
    public static partial void UdpProbed(ILogger logger, string ports, ulong pairs);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Information, Message = "Crawl {ScanId} {State}: {Attempted} attempted, {Open} open, {Written} records written, {Acknowledged} acknowledged, {Rejected} rejected, in {Elapsed}")]
    public static partial void Finished(ILogger logger, string scanId, string state, long attempted, long open, long written, long acknowledged, long rejected, TimeSpan elapsed);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Information, Message = "Cancellation requested: draining {InFlight} in-flight grabs, then completing the sink")]
    public static partial void Draining(ILogger logger, long inFlight);

    [LoggerMessage(EventId = 2106, Level = LogLevel.Warning, Message = "Local socket error while connecting to {Target}: {Error}")]
    public static partial void LocalSocketError(ILogger logger, string target, string error);

    [LoggerMessage(EventId = 2107, Level = LogLevel.Error, Message = "Sink {Sink} failed; stopping the crawl")]
    public static partial void SinkFailed(ILogger logger, Exception exception, string sink);

    [LoggerMessage(EventId = 2108, Level = LogLevel.Warning, Message = "Record rejected by the receiver: {Rejection}")]
    public static partial void RecordRejected(ILogger logger, string rejection);

    [LoggerMessage(EventId = 2109, Level = LogLevel.Error, Message = "Unexpected error grabbing {Target}")]
    public static partial void GrabFailed(ILogger logger, Exception exception, string target);

    [LoggerMessage(EventId = 2110, Level = LogLevel.Debug, Message = "{Target}: {Outcome} {Error}")]
    public static partial void Grabbed(ILogger logger, string target, string outcome, string? error);

    [LoggerMessage(EventId = 2111, Level = LogLevel.Error, Message = "Grabber {Grabber} failed on {Target}; the record keeps what the probes found")]
    public static partial void GrabberFailed(ILogger logger, Exception exception, string grabber, string target);

    [LoggerMessage(EventId = 2112, Level = LogLevel.Warning, Message = "Probe file line skipped: {Diagnostic}")]
    public static partial void ProbeDiagnostic(ILogger logger, string diagnostic);

    [LoggerMessage(EventId = 2113, Level = LogLevel.Information, Message = "Service probes loaded from {Files}: {Probes} probes, {Matches} match lines, intensity {Intensity}")]
    public static partial void ProbesLoaded(ILogger logger, string files, int probes, int matches, int intensity);

    [LoggerMessage(EventId = 2114, Level = LogLevel.Warning, Message = "{Count} more probe file lines skipped")]
    public static partial void ProbeDiagnosticsOmitted(ILogger logger, int count);

    [LoggerMessage(EventId = 2115, Level = LogLevel.Information, Message = "Sweep plan {PlanHash}: shard {Shard}, seed {Seed}, {Positions} positions, starting at {Start}; {Mode} discovery, rate {Rate}, per-network cap {Cap}")]
    public static partial void SweepPlanned(ILogger logger, string planHash, string shard, ulong seed, ulong positions, ulong start, string mode, string rate, int cap);

    [LoggerMessage(EventId = 2116, Level = LogLevel.Warning, Message = "Checkpoint {Path} could not be written; the previous one stays")]
    public static partial void CheckpointFailed(ILogger logger, Exception exception, string path);

    [LoggerMessage(EventId = 2117, Level = LogLevel.Warning, Message = "Checkpoint {Path} stays at position {Position}: {Reason}")]
    public static partial void CheckpointKept(ILogger logger, string path, ulong position, string reason);

    [LoggerMessage(EventId = 2118, Level = LogLevel.Warning, Message = "Aborting: abandoning {InFlight} identifications in flight; they are redone when the sweep resumes")]
    public static partial void Aborting(ILogger logger, long inFlight);

    [LoggerMessage(EventId = 2119, Level = LogLevel.Information, Message = "Resuming from checkpoint {Path}: {Position} of {Count} positions were done")]
    public static partial void Resuming(ILogger logger, string path, ulong position, ulong count);
}
