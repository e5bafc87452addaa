using System.Globalization;
using ExposureIndex.Crawler.Options;
using ExposureIndex.Crawler.Targeting;
using Microsoft.Extensions.Configuration;

namespace ExposureIndex.Crawler.Service;

/// <summary>
/// The long-running Crawler's assignment, immutable, read from configuration section <c>Crawler</c>
/// (appsettings, then environment <c>Crawler__Rate=5000</c>, then command line, the usual layering):
/// what to sweep, which shard, how fast, how often, and where records and state go.
/// Check with <see cref="CrawlerServiceOptionsValidator.Validate"/>, which reports every error at once.
/// </summary>
internal sealed record CrawlerServiceOptions
{
    public const string SectionName = "Crawler";

    /// <summary>Targets (addresses, CIDR blocks, ranges, @files).</summary>
    public IReadOnlyList<string> Targets { get; init; } = [];

    /// <summary>nmap <c>-p</c> syntax or <c>top100</c>/<c>top1000</c>.</summary>
    public string Ports { get; init; } = "top100";

    /// <summary>Exclusion files (one address, CIDR or range per line).</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];

    public bool AllowLoopback { get; init; }

    public bool AllowPrivate { get; init; }

    /// <summary>Permutation seed, the same for every shard. Required when <see cref="Shards"/> &gt; 1.</summary>
    public ulong? Seed { get; init; }

    /// <summary>Number of replicas the space is split over.</summary>
    public int Shards { get; init; } = 1;

    /// <summary>This replica's shard; when null and Shards &gt; 1, taken from the StatefulSet pod ordinal in <see cref="HostName"/>.</summary>
    public int? Shard { get; init; }

    /// <summary>The host (pod) name, from environment HOSTNAME or the machine name.</summary>
    public string HostName { get; init; } = Environment.MachineName;

    /// <summary>New connection attempts (or SYN packets) per second, for this replica.</summary>
    public double Rate { get; init; } = 1000;

    /// <summary>Connections in flight at once.</summary>
    public int Concurrency { get; init; } = 512;

    /// <summary>Connections in flight to one /24 (IPv4) or /64 (IPv6) at once.</summary>
    public int MaxPerNetwork { get; init; } = 16;

    /// <summary>Stateless SYN discovery (root or CAP_NET_RAW) instead of the connect scan.</summary>
    public bool Syn { get; init; }

    /// <summary><c>once</c>, an interval (<c>every 24h</c>) or five cron fields (UTC).</summary>
    public string Schedule { get; init; } = "every 24h";

    /// <summary>The Indexer's gRPC endpoint; exactly one of this and <see cref="Output"/>.</summary>
    public Uri? IndexerUrl { get; init; }

    /// <summary>NDJSON output file instead of an Indexer.</summary>
    public string? Output { get; init; }

    /// <summary>Where undeliverable batches wait for the Indexer (a persistent volume in Kubernetes).</summary>
    public string SpoolDirectory { get; init; } = "/var/lib/exposure-crawler/spool";

    /// <summary>Where checkpoints live (a persistent volume, so a rescheduled pod resumes).</summary>
    public string StateDirectory { get; init; } = "/var/lib/exposure-crawler/state";

    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Port of the health and metrics endpoint (<c>/healthz</c>, <c>/readyz</c>, <c>/metrics</c>); 0 picks a free one (printed at start).</summary>
    public int MetricsPort { get; init; } = 9464;

    /// <summary>Address the health and metrics endpoint listens on (all interfaces by default, for the kubelet and Prometheus).</summary>
    public string MetricsAddress { get; init; } = "0.0.0.0";

    /// <summary>Longest wait for the TCP handshake (and, with Syn, for replies to a probe).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How long a talk-first service may take to greet.</summary>
    public TimeSpan BannerWait { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Longest wait for any later read.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Total time one ip:port may take, connect included.</summary>
    public TimeSpan TargetDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Probe intensity 0-9, like nmap's --version-intensity.</summary>
    public int Intensity { get; init; } = 7;

    /// <summary>Run the per-protocol grabbers after identification.</summary>
    public bool DeepGrab { get; init; } = true;

    /// <summary>Extra service-probe files loaded on top of ours.</summary>
    public IReadOnlyList<string> ProbeFiles { get; init; } = [];

    /// <summary>At the end of a sweep, how long to wait for the Indexer to acknowledge everything before the sweep counts as done (what is left stays in the spool and keeps being replayed).</summary>
    public TimeSpan DeliveryTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long SIGTERM waits for in-flight work before checkpointing and exiting (keep below terminationGracePeriodSeconds).</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(20);

    public string UserAgent { get; init; } = CrawlOptions.DefaultUserAgent;

    public Uri ContactUrl { get; init; } = new("https://github.com/exposureindex/exposureindex");

    /// <summary>
    /// Reads the options from <paramref name="section"/> (normally <c>configuration.GetSection("Crawler")</c>);
    /// values that do not parse are reported in <paramref name="errors"/> by key, and their defaults kept.
    /// Lists may be given as an array (<c>Targets:0</c>, <c>Targets:1</c>) or as one comma-separated string.
    /// </summary>
    public static CrawlerServiceOptions Read(IConfiguration section, ICollection<OptionError> errors, string? hostName = null)
    {
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(errors);
        var defaults = new CrawlerServiceOptions();
        foreach (var child in section.GetChildren())
        {
            // A misspelt key would silently keep its default (say, a rate ten times too high): refuse it.
            if (!KnownKeys.Contains(child.Key))
            {
                errors.Add(new OptionError(child.Key, $"is not a crawler setting (known: {string.Join(", ", KnownKeys.Order(StringComparer.Ordinal))})"));
            }
        }

        return new CrawlerServiceOptions
        {
            Targets = List(section, nameof(Targets)),
            Ports = Text(section, nameof(Ports)) ?? defaults.Ports,
            Exclude = List(section, nameof(Exclude)),
            AllowLoopback = Bool(section, nameof(AllowLoopback), errors) ?? false,
            AllowPrivate = Bool(section, nameof(AllowPrivate), errors) ?? false,
            Seed = Parse(section, nameof(Seed), errors, "an unsigned 64-bit decimal",
                (string s, out ulong v) => ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v)),
            Shards = Parse(section, nameof(Shards), errors, "a whole number",
                (string s, out int v) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v)) ?? defaults.Shards,
            Shard = Parse(section, nameof(Shard), errors, "a whole number (the 0-based shard index)",
                (string s, out int v) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v)),
            HostName = hostName ?? Environment.GetEnvironmentVariable("HOSTNAME") ?? Environment.MachineName,
            Rate = Parse(section, nameof(Rate), errors, "a number of attempts per second",
                (string s, out double v) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v)) ?? defaults.Rate,
            Concurrency = Parse(section, nameof(Concurrency), errors, "a whole number",
                (string s, out int v) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v)) ?? defaults.Concurrency,
            MaxPerNetwork = Parse(section, nameof(MaxPerNetwork), errors, "a whole number",
                (string s, out int v) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v)) ?? defaults.MaxPerNetwork,
            Syn = Bool(section, nameof(Syn), errors) ?? false,
            Schedule = Text(section, nameof(Schedule)) ?? defaults.Schedule,
            IndexerUrl = ParseRef<Uri>(section, nameof(IndexerUrl), errors, "an absolute URL", (string s, out Uri? v) => Uri.TryCreate(s, UriKind.Absolute, out v)),
            Output = string.IsNullOrWhiteSpace(section[nameof(Output)]) ? null : section[nameof(Output)],
            SpoolDirectory = Text(section, nameof(SpoolDirectory)) ?? defaults.SpoolDirectory,
            StateDirectory = Text(section, nameof(StateDirectory)) ?? defaults.StateDirectory,
            CheckpointInterval = Duration(section, nameof(CheckpointInterval), errors) ?? defaults.CheckpointInterval,
            MetricsPort = Parse(section, nameof(MetricsPort), errors, "a port number",
                (string s, out int v) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v)) ?? defaults.MetricsPort,
            MetricsAddress = Text(section, nameof(MetricsAddress)) ?? defaults.MetricsAddress,
            DrainTimeout = Duration(section, nameof(DrainTimeout), errors) ?? defaults.DrainTimeout,
            ConnectTimeout = Duration(section, nameof(ConnectTimeout), errors) ?? defaults.ConnectTimeout,
            BannerWait = Duration(section, nameof(BannerWait), errors) ?? defaults.BannerWait,
            ReadTimeout = Duration(section, nameof(ReadTimeout), errors) ?? defaults.ReadTimeout,
            TargetDeadline = Duration(section, nameof(TargetDeadline), errors) ?? defaults.TargetDeadline,
            Intensity = Parse(section, nameof(Intensity), errors, "a whole number 0-9",
                (string s, out int v) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v)) ?? defaults.Intensity,
            DeepGrab = Bool(section, nameof(DeepGrab), errors) ?? defaults.DeepGrab,
            ProbeFiles = List(section, nameof(ProbeFiles)),
            DeliveryTimeout = Duration(section, nameof(DeliveryTimeout), errors) ?? defaults.DeliveryTimeout,
            UserAgent = Text(section, nameof(UserAgent)) ?? defaults.UserAgent,
            ContactUrl = ParseRef<Uri>(section, nameof(ContactUrl), errors, "an absolute URL", (string s, out Uri? v) => Uri.TryCreate(s, UriKind.Absolute, out v)) ?? defaults.ContactUrl,
        };
    }

    /// <summary>Every key of the section, as written in configuration (case-insensitive, like all .NET configuration).</summary>
    public static IReadOnlySet<string> KnownKeys { get; } = new HashSet<string>(
        typeof(CrawlerServiceOptions).GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance).Select(p => p.Name).Where(n => n != nameof(HostName)), StringComparer.OrdinalIgnoreCase);

    private delegate bool TryParser<T>(string text, out T value);

    /// <summary>A string value; a JSON null or an empty string counts as not given.</summary>
    private static string? Text(IConfiguration section, string key) => string.IsNullOrWhiteSpace(section[key]) ? null : section[key];

    private static IReadOnlyList<string> List(IConfiguration section, string key)
    {
        var children = section.GetSection(key).GetChildren().Select(c => c.Value).Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v!).ToList();
        if (children.Count > 0)
        {
            return children;
        }

        var single = section[key];
        return string.IsNullOrWhiteSpace(single)
            ? []
            : [.. single.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
    }

    private static T? Parse<T>(IConfiguration section, string key, ICollection<OptionError> errors, string what, TryParser<T> parse)
        where T : struct
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return default;
        }

        if (parse(text.Trim(), out var value))
        {
            return value;
        }

        errors.Add(new OptionError(key, $"'{text}' is not {what}"));
        return default;
    }

    private static T? ParseRef<T>(IConfiguration section, string key, ICollection<OptionError> errors, string what, TryParser<T?> parse)
        where T : class
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (parse(text.Trim(), out var value) && value is not null)
        {
            return value;
        }

        errors.Add(new OptionError(key, $"'{text}' is not {what}"));
        return null;
    }

    private static bool? Bool(IConfiguration section, string key, ICollection<OptionError> errors)
        => Parse(section, key, errors, "true or false", (string s, out bool v) => bool.TryParse(s, out v));

    private static TimeSpan? Duration(IConfiguration section, string key, ICollection<OptionError> errors)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var trimmed = text.Trim();
        if (DurationText.TryParseBareNumber(trimmed, out _))
        {
            errors.Add(new OptionError(key, $"'{trimmed}' has no unit: write e.g. {trimmed}s, {trimmed}ms or {trimmed}m"));
            return null;
        }

        if (DurationText.TryParse(trimmed, out var duration, out _)
            || TimeSpan.TryParse(trimmed, CultureInfo.InvariantCulture, out duration))
        {
            return duration;
        }

        errors.Add(new OptionError(key, $"'{text}' is not a duration (e.g. 500ms, 10s, 5m, 1h30m or 00:00:10)"));
        return null;
    }

    /// <summary>The checkpoint file of <paramref name="shard"/> in the state directory.</summary>
    public string CheckpointPath(ShardSpec shard) => Checkpointing.CheckpointStore.InDirectory(StateDirectory, shard).Path;

    /// <summary>One sweep of this assignment as crawl options (shard resolved; the service opens the sink itself).</summary>
    public CrawlOptions ToCrawlOptions(ShardSpec shard, bool resume) => new()
    {
        Targets = Targets,
        Ports = Ports,
        ExcludeFiles = Exclude,
        AllowLoopback = AllowLoopback,
        AllowPrivate = AllowPrivate,
        Seed = Seed,
        Shard = shard.ToString(),
        Rate = Rate,
        Concurrency = Concurrency,
        MaxPerNetwork = MaxPerNetwork,
        Syn = Syn,
        ConnectTimeout = ConnectTimeout,
        BannerWait = BannerWait,
        ReadTimeout = ReadTimeout,
        TargetDeadline = TargetDeadline,
        Intensity = Intensity,
        DeepGrab = DeepGrab,
        ProbeFiles = ProbeFiles,
        IndexerUrl = IndexerUrl,
        OutputPath = Output,
        CheckpointPath = CheckpointPath(shard),
        Resume = resume,
        CheckpointInterval = CheckpointInterval,
        SinkCompleteTimeout = DeliveryTimeout,
        UserAgent = UserAgent,
        ContactUrl = ContactUrl,
        Scanner = $"exposure-crawler/{ShortHostName}",
        Producer = $"crawler/{ShortHostName}",
    };

    private string ShortHostName
    {
        get
        {
            var name = (HostName ?? string.Empty).Trim().ToLowerInvariant();
            var dot = name.IndexOf('.', StringComparison.Ordinal);
            name = dot > 0 ? name[..dot] : name;
            return name.Length is > 0 and <= 100 && name.All(c => c is >= '!' and <= '~') ? name : "localhost";
        }
    }

    /// <summary>The sweep this assignment describes (shard resolved); call after validation.</summary>
    public SweepRequest ToSweepRequest(ShardSpec shard) => new()
    {
        Targets = Targets,
        Ports = Ports,
        AllowLoopback = AllowLoopback,
        AllowPrivate = AllowPrivate,
        ExcludeFiles = Exclude,
        Seed = Seed,
        Shard = shard,
    };
}
