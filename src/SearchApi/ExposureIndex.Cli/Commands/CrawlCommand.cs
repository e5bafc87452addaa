using System.CommandLine;
using System.Globalization;
using ExposureIndex.Crawler.Engine;
using ExposureIndex.Crawler.Options;
using ExposureIndex.Crawler.Publishing;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Cli.Commands;

/// <summary>`exposure crawl`: scan targets and publish to an Indexer or write NDJSON.</summary>
internal static class CrawlCommand
{
    public static Command Build()
    {
        var targets = new Option<string[]>("--targets", "-t")
        {
            Description = "IPs, CIDRs or @file (one per line, # comments); comma or space separated",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var ports = new Option<string>("--ports", "-p")
        {
            Description = "Ports in nmap syntax: 22,80,8000-8100 or T:22,80,U:53",
            DefaultValueFactory = _ => CrawlOptions.DefaultPorts,
        };
        var indexer = new Option<string?>("--indexer") { Description = "Publish to this Indexer's gRPC address, e.g. http://127.0.0.1:8781" };
        var output = new Option<string?>("--output", "-o") { Description = "Write Shodan-style NDJSON banners to this file ('-' for stdout)" };
        var allowLoopback = new Option<bool>("--allow-loopback") { Description = "Allow 127.0.0.0/8 and ::1 targets (refused by default)" };
        var allowPrivate = new Option<bool>("--allow-private") { Description = "Allow RFC 1918, CGNAT, link-local and ULA targets (refused by default)" };
        var concurrency = new Option<int>("--concurrency", "-c") { Description = "Connections in flight at once", DefaultValueFactory = _ => 512 };
        var connectTimeout = new Option<string>("--connect-timeout") { Description = "TCP connect timeout", DefaultValueFactory = _ => "3s" };
        var readTimeout = new Option<string>("--read-timeout") { Description = "Per-read timeout while grabbing", DefaultValueFactory = _ => "3s" };
        var deadline = new Option<string>("--deadline") { Description = "Total time allowed per ip:port", DefaultValueFactory = _ => "10s" };
        var maxBanner = new Option<int>("--max-banner-bytes") { Description = "Byte cap per banner", DefaultValueFactory = _ => 64 * 1024 };
        var userAgent = new Option<string>("--user-agent") { Description = "HTTP User-Agent (names the project; add your contact)", DefaultValueFactory = _ => CrawlOptions.DefaultUserAgent };
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
        var command = new Command("crawl", "Scan targets for open ports, grab banners, and publish the records")
        {
            targets, ports, indexer, output, allowLoopback, allowPrivate, concurrency, connectTimeout, readTimeout, deadline, maxBanner, userAgent, scanId, quiet,
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

            var options = new CrawlOptions
            {
                Targets = parse.GetValue(targets)!.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList(),
                Ports = parse.GetValue(ports)!,
                IndexerUrl = indexerUrl,
                OutputPath = parse.GetValue(output),
                AllowLoopback = parse.GetValue(allowLoopback),
                AllowPrivate = parse.GetValue(allowPrivate),
                Concurrency = parse.GetValue(concurrency),
                ConnectTimeout = Durations.Parse("--connect-timeout", parse.GetValue(connectTimeout)!),
                ReadTimeout = Durations.Parse("--read-timeout", parse.GetValue(readTimeout)!),
                TargetDeadline = Durations.Parse("--deadline", parse.GetValue(deadline)!),
                MaxBannerBytes = parse.GetValue(maxBanner),
                UserAgent = parse.GetValue(userAgent)!,
                ScanId = parse.GetValue(scanId),
                ProbeFiles = parse.GetValue(probes) ?? [],
                Intensity = parse.GetValue(intensity),
                BannerWait = Durations.Parse("--banner-wait", parse.GetValue(bannerWait)!),
                MaxParallelProbes = parse.GetValue(parallelProbes),
                DeepGrab = !parse.GetValue(noDeepGrab),
            };

            var summary = await RunAsync(options, parse.GetValue(quiet), cancellationToken).ConfigureAwait(false);
            return summary.Cancelled ? 130 : 0;
        });
        return command;
    }

    /// <summary>Runs one crawl with a progress line on stderr (when it is a terminal) and a summary at the end.</summary>
    public static async Task<CrawlSummary> RunAsync(CrawlOptions options, bool quiet, CancellationToken cancellationToken)
    {
        using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(quiet ? LogLevel.Warning : LogLevel.Information)
            .AddFilter("ExposureIndex.Crawler", quiet ? LogLevel.Warning : LogLevel.Information));
        CrawlSummary summary;
        try
        {
            await using var sink = RecordSinks.Open(options);
            var progress = quiet || Console.IsErrorRedirected ? null : new Progress<CrawlProgress>(ShowProgress);
            summary = await new CrawlRunner(loggerFactory).RunAsync(options, sink, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (CrawlOptionsException ex)
        {
            throw new CliException(string.Join("; ", ex.Errors.Select(e => e.ToString())), 2);
        }
        catch (TargetsRefusedException ex)
        {
            throw new CliException(ex.Message, 2);
        }
        catch (CrawlSinkException ex)
        {
            throw new CliException("records were not all delivered: " + ex.Message, 1);
        }

        if (!quiet && !Console.IsErrorRedirected)
        {
            Console.Error.Write("\r" + new string(' ', 100) + "\r");
        }

        PrintSummary(summary);
        if (summary.RecordsRejected > 0)
        {
            foreach (var rejection in summary.Rejections.Take(10))
            {
                Console.Error.WriteLine("  rejected " + rejection);
            }
        }

        return summary;
    }

    private static void ShowProgress(CrawlProgress p)
    {
        var percent = p.Planned == 0 ? 100 : 100.0 * p.Attempted / p.Planned;
        var rate = p.Elapsed.TotalSeconds > 0 ? p.Attempted / p.Elapsed.TotalSeconds : 0;
        Console.Error.Write(string.Create(CultureInfo.InvariantCulture,
            $"\r[{p.Elapsed:hh\\:mm\\:ss}] {p.Attempted:N0}/{p.Planned:N0} ({percent:F1}%)  {rate:N0}/s  open {p.Open:N0}  sent {p.RecordsWritten:N0}  acked {p.RecordsAcknowledged:N0}   "));
    }

    private static void PrintSummary(CrawlSummary s)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"crawl {s.ScanId}: {s.Attempted:N0} probes of {s.Planned:N0} in {s.Elapsed.TotalSeconds:F1}s, {s.Open:N0} open, {s.RecordsAcknowledged:N0}/{s.RecordsWritten:N0} records delivered to {s.Sink}{(s.RecordsRejected > 0 ? $", {s.RecordsRejected} rejected" : string.Empty)}{(s.RefusedByPolicy > 0 ? $", {s.RefusedByPolicy:N0} addresses refused by policy" : string.Empty)}{(s.Cancelled ? " (cancelled)" : string.Empty)}"));
    }
}
