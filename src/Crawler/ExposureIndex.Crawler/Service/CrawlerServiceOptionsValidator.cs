using System.Globalization;
using ExposureIndex.Crawler.Options;
using ExposureIndex.Crawler.Targeting;

namespace ExposureIndex.Crawler.Service;

/// <summary>Validates <see cref="CrawlerServiceOptions"/>, reporting every error at once (GUIDE §3.10).</summary>
internal static class CrawlerServiceOptionsValidator
{
    public const double MaxRate = 10_000_000;
    public const int MaxConcurrency = 65_536;

    /// <summary>
    /// Every problem with <paramref name="options"/>, plus those of parsing the targets, ports and exclusions
    /// (which reads @files and exclude files); empty when valid. <paramref name="shard"/> is the resolved shard.
    /// </summary>
    public static IReadOnlyList<OptionError> Validate(CrawlerServiceOptions options, out ShardSpec shard)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<OptionError>();
        shard = ShardSpec.Single;

        if (options.Targets.Count == 0)
        {
            errors.Add(new("Targets", "at least one target is required (Crawler:Targets)"));
        }
        else
        {
            var specErrors = new List<SpecError>();
            TargetParser.Parse(options.Targets, specErrors);
            errors.AddRange(specErrors.Select(e => new OptionError("Targets", e.ToString())));
        }

        var portErrors = new List<SpecError>();
        PortSpecParser.Parse(options.Ports, "ports", portErrors);
        errors.AddRange(portErrors.Select(e => new OptionError("Ports", e.ToString())));

        var excludeErrors = new List<SpecError>();
        ExcludeFileParser.Parse(options.Exclude, excludeErrors);
        errors.AddRange(excludeErrors.Select(e => new OptionError("Exclude", e.ToString())));

        if (options.Shards < 1 || options.Shards > ShardSpec.MaxShards)
        {
            errors.Add(new("Shards", string.Create(CultureInfo.InvariantCulture, $"must be 1-{ShardSpec.MaxShards}, got {options.Shards}")));
        }
        else if (options.Shard is { } index)
        {
            if (index < 0 || index >= options.Shards)
            {
                errors.Add(new("Shard", string.Create(CultureInfo.InvariantCulture, $"must be 0-{options.Shards - 1} (0-based, below Shards), got {index}")));
            }
            else
            {
                shard = new ShardSpec(index, options.Shards);
            }
        }
        else if (options.Shards > 1)
        {
            if (ShardAssignment.TryFromHostName(options.HostName, options.Shards, out var fromHost, out var hostError))
            {
                shard = fromHost;
            }
            else
            {
                errors.Add(new("Shard", hostError));
            }
        }

        if (options.Shards > 1 && options.Seed is null)
        {
            errors.Add(new("Seed", "is required when Shards > 1: every replica must use the same seed, or the shards overlap"));
        }

        if (!double.IsFinite(options.Rate) || options.Rate <= 0 || options.Rate > MaxRate)
        {
            errors.Add(new("Rate", string.Create(CultureInfo.InvariantCulture, $"must be a number of attempts per second above 0 and at most {MaxRate}, got {options.Rate}")));
        }

        Range(errors, "Concurrency", options.Concurrency, 1, MaxConcurrency);
        Range(errors, "MaxPerNetwork", options.MaxPerNetwork, 1, MaxConcurrency);
        Range(errors, "MetricsPort", options.MetricsPort, 0, 65535);
        if (!System.Net.IPAddress.TryParse(options.MetricsAddress, out _))
        {
            errors.Add(new("MetricsAddress", $"'{options.MetricsAddress}' is not an IP address (0.0.0.0 listens on every interface)"));
        }

        Range(errors, "Intensity", options.Intensity, 0, 9);
        foreach (var (name, value) in new[] { ("ConnectTimeout", options.ConnectTimeout), ("BannerWait", options.BannerWait), ("ReadTimeout", options.ReadTimeout), ("TargetDeadline", options.TargetDeadline), ("DeliveryTimeout", options.DeliveryTimeout) })
        {
            Positive(errors, name, value);
        }

        if (options.ConnectTimeout > options.TargetDeadline)
        {
            errors.Add(new("TargetDeadline", $"must be at least ConnectTimeout ({options.ConnectTimeout}), got {options.TargetDeadline}"));
        }

        foreach (var file in options.ProbeFiles)
        {
            if (!File.Exists(file))
            {
                errors.Add(new("ProbeFiles", $"probe file '{file}' does not exist"));
            }
        }

        if (!RescanSchedule.TryParse(options.Schedule, out _, out var scheduleError))
        {
            errors.Add(new("Schedule", scheduleError));
        }

        Positive(errors, "CheckpointInterval", options.CheckpointInterval);
        Positive(errors, "DrainTimeout", options.DrainTimeout);

        if ((options.IndexerUrl is null) == (options.Output is null))
        {
            errors.Add(new("IndexerUrl/Output", options.IndexerUrl is null
                ? "give exactly one of an Indexer URL and an output file"
                : "give exactly one of an Indexer URL and an output file, not both"));
        }

        if (options.IndexerUrl is { } url && (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https")))
        {
            errors.Add(new("IndexerUrl", $"must be an absolute http:// (h2c) or https:// URL, got '{url}'"));
        }

        if (options.IndexerUrl is not null && string.IsNullOrWhiteSpace(options.SpoolDirectory))
        {
            errors.Add(new("SpoolDirectory", "is required with an Indexer: undeliverable batches wait there"));
        }

        if (string.IsNullOrWhiteSpace(options.StateDirectory))
        {
            errors.Add(new("StateDirectory", "is required: checkpoints live there"));
        }

        if (string.IsNullOrWhiteSpace(options.UserAgent) || options.UserAgent.Any(c => c < 0x20 || c > 0x7E))
        {
            errors.Add(new("UserAgent", "must be non-empty printable ASCII (it is sent as an HTTP header)"));
        }

        if (options.ContactUrl is null || !options.ContactUrl.IsAbsoluteUri || options.ContactUrl.Scheme is not ("http" or "https"))
        {
            errors.Add(new("ContactUrl", "must be an absolute http(s) URL: scanned hosts' owners must be able to reach the operator"));
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

    private static void Positive(List<OptionError> errors, string option, TimeSpan value)
    {
        if (value <= TimeSpan.Zero || value > TimeSpan.FromHours(24))
        {
            errors.Add(new(option, $"must be positive and at most 24 h, got {value}"));
        }
    }
}
