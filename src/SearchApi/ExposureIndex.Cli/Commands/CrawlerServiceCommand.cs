using System.CommandLine;
using ExposureIndex.Crawler.Service;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Cli.Commands;

/// <summary>`exposure crawler-service`: the long-running Crawler (schedule, shard from the pod ordinal, health and metrics).</summary>
internal static class CrawlerServiceCommand
{
    public static Command Build()
    {
        var config = new Option<string[]>("--config")
        {
            Description = "JSON configuration file(s), section \"Crawler\" (comments allowed; see deploy/crawler.defaults.json); later files override earlier ones",
            AllowMultipleArgumentsPerToken = false,
        };
        var set = new Option<string[]>("--set")
        {
            Description = "Override one setting, Key=Value (e.g. Rate=5000, Targets:0=198.51.100.0/24); applied after the files and Crawler__* environment variables",
            AllowMultipleArgumentsPerToken = false,
        };
        var verbose = new Option<bool>("--verbose") { Description = "Log every scheduler and delivery event at debug level" };
        var command = new Command("crawler-service", "Run the Crawler as a service: sweep the configured assignment on a schedule, serve /healthz, /readyz and /metrics")
        {
            config, set, verbose,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var level = parse.GetValue(verbose) ? LogLevel.Debug : LogLevel.Information;
            using var loggerFactory = LoggerFactory.Create(b => b
                .AddSimpleConsole(o => o.SingleLine = true)
                .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
                .SetMinimumLevel(level)
                .AddFilter("Microsoft", LogLevel.Warning));
            return await CrawlerServiceHost.RunAsync(parse.GetValue(config) ?? [], parse.GetValue(set) ?? [], loggerFactory, Console.Out, Console.Error, cancellationToken)
                .ConfigureAwait(false);
        });
        return command;
    }
}
