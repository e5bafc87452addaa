using System.Globalization;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Options;

/// <summary>One problem with the options, naming the option.</summary>
public sealed record OptionError(string Option, string Message)
{
    public override string ToString() => $"{Option}: {Message}";
}

/// <summary>Thrown when options are invalid; <see cref="Errors"/> lists every problem found.</summary>
public sealed class CrawlOptionsException : Exception
{
    public CrawlOptionsException()
        : this([])
    {
    }

    public CrawlOptionsException(string message)
        : this([new OptionError("Options", message)])
    {
    }

    public CrawlOptionsException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [new OptionError("Options", message)];
    }

    public CrawlOptionsException(IReadOnlyList<OptionError> errors)
        : base(Format(errors))
    {
        Errors = errors;
    }

    public IReadOnlyList<OptionError> Errors { get; }

    private static string Format(IReadOnlyList<OptionError> errors)
        => errors.Count == 1
            ? $"invalid crawl options: {errors[0]}"
            : $"invalid crawl options ({errors.Count} errors):{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors);
}

/// <summary>Validates <see cref="CrawlOptions"/>, reporting every error at once (GUIDE §3.10).</summary>
public static class CrawlOptionsValidator
{
    public const int MaxConcurrency = 65_536;
    public const int MaxBannerBytesLimit = 16 * 1024 * 1024;
    public const int MaxBatchSize = 10_000;
    public const int MaxInFlightBatchesLimit = 1024;
    public const int MaxNameLength = 128;
    public const int MaxParallelProbesLimit = 16;
    public const double MaxRate = 10_000_000;
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(1);

    /// <summary>Every problem with <paramref name="options"/>; empty when they are valid. Reads @files.</summary>
    public static IReadOnlyList<OptionError> Validate(CrawlOptions options) => Validate(options, requireOutput: true, out _);

    internal static IReadOnlyList<OptionError> Validate(CrawlOptions options, bool requireOutput, out ParsedSpecs? parsed)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<OptionError>();
        parsed = null;

        var entries = new List<TargetEntry>();
        if (options.Targets is null || options.Targets.Count == 0 || options.Targets.All(string.IsNullOrWhiteSpace))
        {
            errors.Add(new("Targets", "at least one target is required"));
        }
        else
        {
            var specErrors = new List<SpecError>();
            entries = TargetParser.Parse(options.Targets, specErrors);
            errors.AddRange(specErrors.Select(e => new OptionError("Targets", e.ToString())));
            if (specErrors.Count == 0 && entries.Count == 0)
            {
                errors.Add(new("Targets", "at least one target is required (the given targets and files hold none)"));
            }
        }

        var portErrors = new List<SpecError>();
        var ports = PortSpecParser.Parse(options.Ports, "ports", portErrors);
        errors.AddRange(portErrors.Select(e => new OptionError("Ports", e.ToString())));

        var httpErrors = new List<SpecError>();
        var httpPorts = PortSpecParser.Parse(options.HttpPorts, "http ports", httpErrors);
        errors.AddRange(httpErrors.Select(e => new OptionError("HttpPorts", e.ToString())));
        if (httpPorts is { Udp.IsEmpty: false })
        {
            errors.Add(new("HttpPorts", "only TCP ports can be HTTP ports (remove the U: entries)"));
        }

        Range(errors, "Concurrency", options.Concurrency, 1, MaxConcurrency);
        Range(errors, "Intensity", options.Intensity, 0, 9);
        Range(errors, "MaxParallelProbes", options.MaxParallelProbes, 1, MaxParallelProbesLimit);
        foreach (var file in options.ProbeFiles ?? [])
        {
            if (string.IsNullOrWhiteSpace(file) || !File.Exists(file))
            {
                errors.Add(new("ProbeFiles", $"probe file '{file}' does not exist"));
            }
        }

        Range(errors, "MaxBannerBytes", options.MaxBannerBytes, 1, MaxBannerBytesLimit);
        Range(errors, "BatchSize", options.BatchSize, 1, MaxBatchSize);
        Range(errors, "MaxInFlightBatches", options.MaxInFlightBatches, 1, MaxInFlightBatchesLimit);

        Timeout(errors, "ConnectTimeout", options.ConnectTimeout);
        Timeout(errors, "BannerWait", options.BannerWait);
        Timeout(errors, "ReadTimeout", options.ReadTimeout);
        Timeout(errors, "TargetDeadline", options.TargetDeadline);
        Timeout(errors, "BatchInterval", options.BatchInterval);
        Timeout(errors, "SinkCompleteTimeout", options.SinkCompleteTimeout);
        Timeout(errors, "ProgressInterval", options.ProgressInterval);
        if (options.TargetDeadline > TimeSpan.Zero && options.ConnectTimeout > options.TargetDeadline)
        {
            errors.Add(new("TargetDeadline", $"must be at least ConnectTimeout ({Seconds(options.ConnectTimeout)}), got {Seconds(options.TargetDeadline)}"));
        }

        if (string.IsNullOrWhiteSpace(options.UserAgent))
        {
            errors.Add(new("UserAgent", "must not be empty"));
        }
        else if (!IsHeaderSafe(options.UserAgent))
        {
            errors.Add(new("UserAgent", "must be printable ASCII (it is sent as an HTTP header)"));
        }

        if (options.ContactUrl is null)
        {
            errors.Add(new("ContactUrl", "is required: scanned hosts' owners must be able to reach the operator"));
        }
        else if (!options.ContactUrl.IsAbsoluteUri || options.ContactUrl.Scheme is not ("http" or "https") || !IsHeaderSafe(options.ContactUrl.AbsoluteUri))
        {
            errors.Add(new("ContactUrl", $"must be an absolute http(s) URL, got '{options.ContactUrl}'"));
        }

        if (requireOutput)
        {
            var hasOutput = options.OutputPath is not null;
            var hasIndexer = options.IndexerUrl is not null;
            if (hasOutput == hasIndexer)
            {
                errors.Add(new("OutputPath/IndexerUrl", hasOutput
                    ? "give exactly one of an output file and an indexer URL, not both"
                    : "give exactly one of an output file (or '-' for stdout) and an indexer URL"));
            }
        }

        if (options.OutputPath is { } path && string.IsNullOrWhiteSpace(path))
        {
            errors.Add(new("OutputPath", "must not be empty (use '-' for standard output)"));
        }

        if (options.IndexerUrl is { } url && (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https")))
        {
            errors.Add(new("IndexerUrl", $"must be an absolute http:// (h2c) or https:// URL, got '{url}'"));
        }

        Name(errors, "ScanId", options.ScanId);
        Name(errors, "Scanner", options.Scanner);
        Name(errors, "Producer", options.Producer);

        var shard = ShardSpec.Single;
        if (options.Shard is { } shardText && !ShardSpec.TryParse(shardText.Trim(), out shard, out var shardError))
        {
            errors.Add(new("Shard", shardError));
        }

        if (shard.Count > 1 && options.Seed is null && !(options.Resume && options.CheckpointPath is not null))
        {
            errors.Add(new("Seed", "a sharded sweep needs an explicit seed: every shard must use the same one, or the shards overlap"));
        }

        if (options.Rate is { } rate && (!double.IsFinite(rate) || rate <= 0 || rate > MaxRate))
        {
            errors.Add(new("Rate", string.Create(CultureInfo.InvariantCulture, $"must be above 0 and at most {MaxRate:0} per second, got {rate}")));
        }

        Range(errors, "MaxPerNetwork", options.MaxPerNetwork, 0, MaxConcurrency);

        var excludeErrors = new List<SpecError>();
        var exclusions = ExcludeFileParser.Parse(options.ExcludeFiles ?? [], excludeErrors);
        errors.AddRange(excludeErrors.Select(e => new OptionError("ExcludeFiles", e.ToString())));

        if (options.CheckpointPath is { } checkpoint && string.IsNullOrWhiteSpace(checkpoint))
        {
            errors.Add(new("CheckpointPath", "must not be empty"));
        }

        if (options.Resume && options.CheckpointPath is null)
        {
            errors.Add(new("Resume", "needs the checkpoint file the interrupted run wrote (CheckpointPath, --checkpoint FILE)"));
        }

        Timeout(errors, "CheckpointInterval", options.CheckpointInterval);

        if (options.SpoolDirectory is { } spool && string.IsNullOrWhiteSpace(spool))
        {
            errors.Add(new("SpoolDirectory", "must not be empty"));
        }
        else if (options.SpoolDirectory is not null && options.OutputPath is not null && options.IndexerUrl is null)
        {
            errors.Add(new("SpoolDirectory", "is for delivery to an Indexer; an output file is written directly"));
        }

        if (options.StatsPath is { } stats && string.IsNullOrWhiteSpace(stats))
        {
            errors.Add(new("StatsPath", "must not be empty"));
        }

        if (ports is not null && entries.Count > 0)
        {
            var addresses = TargetSet.From(entries.Select(e => e.Range)).TotalAddresses;
            if (addresses * (UInt128)(uint)Math.Max(ports.Tcp.Count + ports.Udp.Count, 1) > long.MaxValue)
            {
                errors.Add(new("Targets", $"{addresses} addresses x {ports.Tcp.Count + ports.Udp.Count} ports is too large a scan; split it"));
            }
        }

        if (errors.Count == 0 && ports is not null && httpPorts is not null)
        {
            parsed = new ParsedSpecs(entries, ports, httpPorts.Tcp, exclusions, shard);
        }

        return errors;
    }

    private static void Range(List<OptionError> errors, string option, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            errors.Add(new(option, string.Create(CultureInfo.InvariantCulture, $"must be {min}-{max}, got {value}")));
        }
    }

    private static void Timeout(List<OptionError> errors, string option, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add(new(option, $"must be positive, got {Seconds(value)}"));
        }
        else if (value > MaxTimeout)
        {
            errors.Add(new(option, $"must be at most {Seconds(MaxTimeout)}, got {Seconds(value)}"));
        }
    }

    private static void Name(List<OptionError> errors, string option, string? value)
    {
        if (value is null)
        {
            return;
        }

        if (value.Length == 0 || value.Length > MaxNameLength || value.Any(char.IsControl))
        {
            errors.Add(new(option, $"must be 1-{MaxNameLength} characters without control characters"));
        }
    }

    private static bool IsHeaderSafe(string value) => value.All(c => c is >= ' ' and <= '~');

    private static string Seconds(TimeSpan value) => string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds:0.###} s");
}

/// <summary>The parsed specifications of valid options.</summary>
internal sealed record ParsedSpecs(IReadOnlyList<TargetEntry> Targets, PortSpec Ports, PortSet HttpPorts, IReadOnlyList<BlockRule> Exclusions, ShardSpec Shard);
