namespace ExposureIndex.Crawler.Options;

/// <summary>
/// Everything one crawl needs, immutable. Defaults suit the internet; tests use small timeouts and concurrency.
/// Check with <see cref="CrawlOptionsValidator.Validate"/>, which reports every error at once.
/// </summary>
public sealed record CrawlOptions
{
    /// <summary>Ports scanned when none are given: common talk-first and cleartext HTTP services.</summary>
    public const string DefaultPorts = "21-23,25,80,110,143,587,8000,8080,8888";

    /// <summary>Cleartext HTTP ports that get a GET when the server stays silent (nmap's GetRequest ports, minus TLS).</summary>
    public const string DefaultHttpPorts = "80,81,591,3000,5000,8000-8099,8888,9000";

    public const string DefaultUserAgent = "ExposureIndex-Crawler/0.1";

    /// <summary>
    /// Targets: IPv4/IPv6 addresses, CIDR blocks, ranges (<c>10.0.0.1-10.0.0.9</c>, <c>10.0.0.1-9</c>) and
    /// <c>@file</c> (one per line, # comments). Several may share one string, separated by commas or blanks.
    /// </summary>
    public IReadOnlyList<string> Targets { get; init; } = [];

    /// <summary>nmap <c>-p</c> syntax: <c>22,80,8000-8100</c>, <c>T:22,80,U:53,161</c>, <c>-1024</c>, <c>-</c>.</summary>
    public string Ports { get; init; } = DefaultPorts;

    /// <summary>Unlocks 127.0.0.0/8 and ::1 (nothing else).</summary>
    public bool AllowLoopback { get; init; }

    /// <summary>Unlocks RFC 1918, CGNAT 100.64.0.0/10, link-local and unique-local (nothing else).</summary>
    public bool AllowPrivate { get; init; }

    /// <summary>Connections in flight at once.</summary>
    public int Concurrency { get; init; } = 512;

    /// <summary>Longest wait for the TCP handshake.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How long the NULL probe listens for a banner where a talk-first service is expected (elsewhere at most 0.5 s before probes start).</summary>
    public TimeSpan BannerWait { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Longest wait for any later read (the answer to a probe, the rest of a banner).</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Total time one ip:port may take, connect included.</summary>
    public TimeSpan TargetDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Bytes kept of one banner or response; reading stops there.</summary>
    public int MaxBannerBytes { get; init; } = 64 * 1024;

    /// <summary>nmap's --version-intensity (0-9): probes rarer than this are not sent unless they list the port.</summary>
    public int Intensity { get; init; } = 7;

    /// <summary>Extra probe files in the service-probe DSL loaded on top of our own (e.g. /usr/share/nmap/nmap-service-probes).</summary>
    public IReadOnlyList<string> ProbeFiles { get; init; } = [];

    /// <summary>Probe connections open at once to one port besides the first (politeness cap).</summary>
    public int MaxParallelProbes { get; init; } = 3;

    /// <summary>Run the deep per-protocol grabbers after identification (http, tls, ssh ...).</summary>
    public bool DeepGrab { get; init; } = true;

    /// <summary>TCP ports (nmap syntax) that are probed with <c>GET / HTTP/1.1</c> when silent.</summary>
    public string HttpPorts { get; init; } = DefaultHttpPorts;

    /// <summary>Product token of the User-Agent; the contact URL is appended as <c>(+URL)</c>.</summary>
    public string UserAgent { get; init; } = DefaultUserAgent;

    /// <summary>Where people whose hosts we scan can read about the scan and opt out. Operators should set their own.</summary>
    public Uri ContactUrl { get; init; } = new("https://github.com/exposureindex/exposureindex");

    /// <summary>NDJSON output file (Shodan banner format); <c>-</c> is standard output. Exactly one of this and <see cref="IndexerUrl"/>.</summary>
    public string? OutputPath { get; init; }

    /// <summary>The Indexer's gRPC endpoint (h2c), e.g. <c>http://127.0.0.1:7101</c>.</summary>
    public Uri? IndexerUrl { get; init; }

    /// <summary>Identifies this run in every record; generated when null.</summary>
    public string? ScanId { get; init; }

    /// <summary>Who observed it (record.scanner); <c>exposure-crawler/&lt;hostname&gt;</c> when null.</summary>
    public string? Scanner { get; init; }

    /// <summary>Producer name sent with each PublishBatch; <c>crawler/&lt;hostname&gt;</c> when null.</summary>
    public string? Producer { get; init; }

    /// <summary>Records per batch handed to the sink.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>A partial batch is handed over after this long, so slow crawls still publish steadily.</summary>
    public TimeSpan BatchInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Batches sent to the Indexer but not yet acknowledged, at most.</summary>
    public int MaxInFlightBatches { get; init; } = 8;

    /// <summary>Longest wait for the sink to make everything durable at the end (acks, fsync); with an Indexer, the time it has to come back before the crawl ends with records left in the spool.</summary>
    public TimeSpan SinkCompleteTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often progress is reported.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Seed of the sweep's permutation: the order targets are visited in. Every shard of one sweep must use the same
    /// seed. A random one (reported in the summary and kept in the checkpoint) when null.
    /// </summary>
    public ulong? Seed { get; init; }

    /// <summary>This run's share of the sweep, <c>K/N</c>: shard K of N, 0-based like a StatefulSet's pod ordinals; null is <c>0/1</c>.</summary>
    public string? Shard { get; init; }

    /// <summary>New connection attempts (connect scan) or SYN probes per second, for this run; unlimited when null.</summary>
    public double? Rate { get; init; }

    /// <summary>Connections in flight at once to one /24 (IPv4) or /64 (IPv6), so no one network is hammered; 0 lifts the cap.</summary>
    public int MaxPerNetwork { get; init; } = 16;

    /// <summary>Files of addresses, CIDR blocks or ranges never to scan (one per line, # comments), on top of the default blocklist.</summary>
    public IReadOnlyList<string> ExcludeFiles { get; init; } = [];

    /// <summary>Stateless SYN discovery over a raw socket (root or CAP_NET_RAW) instead of the connect scan; open ports go on to identification.</summary>
    public bool Syn { get; init; }

    /// <summary>Checkpoint file: progress is saved there every <see cref="CheckpointInterval"/> and when the crawl ends or is stopped.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Continue the sweep saved in <see cref="CheckpointPath"/> (from the start when the file does not exist yet).</summary>
    public bool Resume { get; init; }

    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// With an Indexer: where batches it cannot take right now wait on disk, to be replayed when it is back (and by a
    /// later run using the same directory). A fresh temporary directory when null, removed when it ends empty.
    /// </summary>
    public string? SpoolDirectory { get; init; }

    /// <summary>Machine-readable stats (JSON) written here when the crawl ends.</summary>
    public string? StatsPath { get; init; }

    /// <summary>The epoll connect engine on Linux (the portable managed scanner elsewhere, or when false).</summary>
    internal bool UseEpoll { get; init; } = true;

    /// <summary>Opens the SYN scanner's raw socket (tests inject a refusal); a raw IPv4/TCP socket when null.</summary>
    internal Func<System.Net.Sockets.Socket>? OpenRawSocket { get; init; }
}
