using System.CommandLine;
using ExposureIndex.Crawler.Engine;
using ExposureIndex.Crawler.Frontend;
using ExposureIndex.Crawler.Options;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Cli.Commands;

/// <summary>`exposure crawl`: sweep targets (seeded, shardable, rate-limited), identify open ports, publish the records.</summary>
internal static class CrawlCommand
{
    public static Command Build()
    {
        var targets = new Option<string[]>("--targets", "-t")
        {
            Description = "IPs, CIDRs, ranges or @file (one per line, # comments); comma or space separated",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var ports = new Option<string>("--ports", "-p")
        {
            Description = "Ports in nmap syntax (22,80,8000-8100 or T:22,80,U:53) and/or the named sets top100, top1000",
            DefaultValueFactory = _ => CrawlOptions.DefaultPorts,
        };
        var indexer = new Option<string?>("--indexer") { Description = "Publish to this Indexer's gRPC address, e.g. http://127.0.0.1:8781 (retries, circuit breaker, disk spool)" };
        var output = new Option<string?>("--output", "-o") { Description = "Write Shodan-style NDJSON banners to this file ('-' for stdout)" };
        var allowLoopback = new Option<bool>("--allow-loopback") { Description = "Allow 127.0.0.0/8 and ::1 targets (refused by default)" };
        var allowPrivate = new Option<bool>("--allow-private") { Description = "Allow RFC 1918, CGNAT, link-local and ULA targets (refused by default)" };
        var exclude = new Option<string[]>("--exclude")
        {
            Description = "File of addresses, CIDRs or ranges never to scan (one per line, # comments); repeatable",
            AllowMultipleArgumentsPerToken = false,
        };
        var seed = new Option<ulong?>("--seed") { Description = "Seed of the sweep's random order; every shard of one sweep must use the same (random when not given)" };
        var shard = new Option<string?>("--shard") { Description = "Scan only shard K of N (0-based, K/N, e.g. 0/4); shards of one seed are disjoint and together cover everything" };
        var rate = new Option<double?>("--rate") { Description = "New connection attempts (or SYN probes) per second, at most (unlimited when not given)" };
        var maxPerNetwork = new Option<int>("--max-per-network") { Description = "Connections in flight to one /24 (IPv4) or /64 (IPv6); 0 lifts the cap", DefaultValueFactory = _ => 16 };
        var syn = new Option<bool>("--syn") { Description = "Stateless SYN discovery over a raw socket (root or CAP_NET_RAW); open ports go on to identification" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan, one ip:port/transport per line in visiting order, and send nothing" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Save progress to this file (periodically and when stopped), so the sweep can be resumed" };
        var checkpointInterval = new Option<string>("--checkpoint-interval") { Description = "How often the checkpoint is saved", DefaultValueFactory = _ => "10s" };
        var resume = new Option<bool>("--resume") { Description = "Continue the sweep saved in --checkpoint without repeating finished work (starts fresh if the file does not exist)" };
        var spool = new Option<string?>("--spool") { Description = "With --indexer: directory where undeliverable batches wait and are replayed (a temporary one by default)" };
        var stats = new Option<string?>("--stats") { Description = "Write machine-readable stats (JSON) to this file at the end" };
        var concurrency = new Option<int>("--concurrency", "-c") { Description = "Connections in flight at once (discovery and identification together)", DefaultValueFactory = _ => 512 };
        var connectTimeout = new Option<string>("--connect-timeout") { Description = "TCP connect timeout (and the SYN reply wait)", DefaultValueFactory = _ => "3s" };
        var readTimeout = new Option<string>("--read-timeout") { Description = "Per-read timeout while grabbing", DefaultValueFactory = _ => "3s" };
        var deadline = new Option<string>("--deadline") { Description = "Total time allowed per ip:port", DefaultValueFactory = _ => "10s" };
        var deliveryTimeout = new Option<string>("--delivery-timeout") { Description = "At the end, how long to wait for the Indexer to acknowledge everything", DefaultValueFactory = _ => "60s" };
        var drainTimeout = new Option<string>("--drain-timeout") { Description = "After SIGTERM/Ctrl-C, how long to finish in-flight work before abandoning it (a second signal abandons it at once)", DefaultValueFactory = _ => "30s" };
        var maxBanner = new Option<int>("--max-banner-bytes") { Description = "Byte cap per banner", DefaultValueFactory = _ => 64 * 1024 };
        var userAgent = new Option<string>("--user-agent") { Description = "HTTP User-Agent product token (the contact URL is appended as (+URL))", DefaultValueFactory = _ => CrawlOptions.DefaultUserAgent };
        var contact = new Option<string?>("--contact") { Description = "URL where owners of scanned hosts can read about the scan and opt out (sent in the User-Agent)" };
        var scanId = new Option<string?>("--scan-id") { Description = "Identifier stored with every record of this crawl" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress line; only the summary" };
        var probes = new Option<string[]>("--probes")
        {
            Description = "Extra service-probe file(s) loaded on top of ours, e.g. /usr/share/nmap/nmap-service-probes from your nmap installation",
            AllowMultipleArgumentsPerToken = false,
        };
        var intensity = new Option<int>("--intensity") { Description = "Probe intensity 0-9, like nmap's --version-intensity", DefaultValueFactory = _ => 7 };
        var bannerWait = new Option<string>("--banner-wait") { Description = "How long a talk-first service may take to greet", DefaultValueFactory = _ => "2s" };
        var parallelProbes = new Option<int>("--parallel-probes") { Description = "Probe connections at once to one port (politeness cap)", DefaultValueFactory = _ => 3 };
        var noDeepGrab = new Option<bool>("--no-deep-grab") { Description = "Identify services only; skip the per-protocol grabbers" };
        var command = new Command("crawl", "Sweep targets (seeded, shardable, rate-limited), identify open ports, and publish the records")
        {
            targets, ports, indexer, output, allowLoopback, allowPrivate, exclude, seed, shard, rate, maxPerNetwork, syn, dryRun, checkpoint, checkpointInterval,
            resume, spool, stats, concurrency, connectTimeout, readTimeout, deadline, deliveryTimeout, drainTimeout, maxBanner, userAgent, contact, scanId, quiet,
            probes, intensity, bannerWait, parallelProbes, noDeepGrab,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var indexerText = parse.GetValue(indexer);
            Uri? indexerUrl = null;
            if (indexerText is not null && (!Uri.TryCreate(indexerText.Contains("://", StringComparison.Ordinal) ? indexerText : "http://" + indexerText, UriKind.Absolute, out indexerUrl) || indexerUrl.Scheme is not ("http" or "https")))
            {
                throw new CliException($"--indexer '{indexerText}' is not an http(s) address like http://127.0.0.1:8781", 2);
            }

            var contactText = parse.GetValue(contact);
            Uri? contactUrl = null;
            if (contactText is not null && !Uri.TryCreate(contactText, UriKind.Absolute, out contactUrl))
            {
                throw new CliException($"--contact '{contactText}' is not an absolute URL like https://scanner.example.org/about", 2);
            }

            var options = new CrawlOptions
            {
                Targets = parse.GetValue(targets)!.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList(),
                Ports = parse.GetValue(ports)!,
                IndexerUrl = indexerUrl,
                OutputPath = parse.GetValue(output),
                AllowLoopback = parse.GetValue(allowLoopback),
                AllowPrivate = parse.GetValue(allowPrivate),
                ExcludeFiles = parse.GetValue(exclude) ?? [],
                Seed = parse.GetValue(seed),
                Shard = parse.GetValue(shard),
                Rate = parse.GetValue(rate),
                MaxPerNetwork = parse.GetValue(maxPerNetwork),
                Syn = parse.GetValue(syn),
                CheckpointPath = parse.GetValue(checkpoint),
                CheckpointInterval = Durations.Parse("--checkpoint-interval", parse.GetValue(checkpointInterval)!),
                Resume = parse.GetValue(resume),
                SpoolDirectory = parse.GetValue(spool),
                StatsPath = parse.GetValue(stats),
                Concurrency = parse.GetValue(concurrency),
                ConnectTimeout = Durations.Parse("--connect-timeout", parse.GetValue(connectTimeout)!),
                ReadTimeout = Durations.Parse("--read-timeout", parse.GetValue(readTimeout)!),
                TargetDeadline = Durations.Parse("--deadline", parse.GetValue(deadline)!),
                SinkCompleteTimeout = Durations.Parse("--delivery-timeout", parse.GetValue(deliveryTimeout)!),
                MaxBannerBytes = parse.GetValue(maxBanner),
                UserAgent = parse.GetValue(userAgent)!,
                ContactUrl = contactUrl ?? new CrawlOptions().ContactUrl,
                ScanId = parse.GetValue(scanId),
                ProbeFiles = parse.GetValue(probes) ?? [],
                Intensity = parse.GetValue(intensity),
                BannerWait = Durations.Parse("--banner-wait", parse.GetValue(bannerWait)!),
                MaxParallelProbes = parse.GetValue(parallelProbes),
                DeepGrab = !parse.GetValue(noDeepGrab),
            };

            var settings = new CrawlConsoleSettings
            {
                Quiet = parse.GetValue(quiet),
                DryRun = parse.GetValue(dryRun),
                DrainTimeout = Durations.Parse("--drain-timeout", parse.GetValue(drainTimeout)!),
            };
            return (await RunAsync(options, settings, cancellationToken).ConfigureAwait(false)).ExitCode;
        });
        return command;
    }

    /// <summary>Runs one crawl with a progress line on stderr (when it is a terminal) and a summary at the end (used by `exposure demo`).</summary>
    public static async Task<CrawlSummary> RunAsync(CrawlOptions options, bool quiet, CancellationToken cancellationToken)
        => (await RunAsync(options, new CrawlConsoleSettings { Quiet = quiet }, cancellationToken).ConfigureAwait(false)).Summary
            ?? throw new CliException("the crawl ended without a summary", 1);

    private static async Task<CrawlConsoleResult> RunAsync(CrawlOptions options, CrawlConsoleSettings settings, CancellationToken cancellationToken)
    {
        var level = settings.Quiet || settings.DryRun ? LogLevel.Warning : LogLevel.Information;
        using var loggerFactory = LoggerFactory.Create(b => b
            // Logs go to stderr: stdout carries the plan (--dry-run), the NDJSON (-o -) and the summary.
            .AddSimpleConsole(o => o.SingleLine = true)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .SetMinimumLevel(level)
            .AddFilter("ExposureIndex.Crawler", level));
        if (!settings.DryRun)
        {
            var errors = CrawlOptionsValidator.Validate(options);
            if (errors.Count > 0)
            {
                throw new CliException(string.Join("; ", errors.Select(e => e.ToString())), 2);
            }
        }

        try
        {
            return await CrawlConsole.RunAsync(options, settings, loggerFactory, cancellationToken).ConfigureAwait(false);
        }
        catch (CrawlConsoleException ex)
        {
            throw new CliException(ex.Message, ex.ExitCode);
        }
    }
}
