using System.Globalization;
using ExposureIndex.Crawler.Options;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Crawler.Service;

/// <summary>
/// <c>exposure crawler-service</c>: the long-running Crawler, configured in layers (GUIDE §3.10): the defaults of
/// <see cref="CrawlerServiceOptions"/>, then each JSON file (comments allowed; section <c>Crawler</c>), then
/// environment variables (<c>Crawler__Rate=5000</c>), then <c>--set Key=Value</c>. In Kubernetes the shard comes from
/// the StatefulSet pod's ordinal in HOSTNAME.
/// </summary>
public static class CrawlerServiceHost
{
    public const int ExitOk = 0;
    public const int ExitFailed = 1;
    public const int ExitUsage = 2;

    /// <summary>
    /// Validates the configuration (every error at once, one per line on <paramref name="error"/>, exit 2), then runs
    /// the service until SIGTERM/SIGINT or <paramref name="cancellationToken"/>: the first stop drains and checkpoints,
    /// a second (or <c>DrainTimeout</c>) abandons in-flight work. Prints the health/metrics address on <paramref name="output"/>.
    /// </summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> configFiles, IReadOnlyList<string> overrides, ILoggerFactory loggerFactory,
        TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(configFiles);
        ArgumentNullException.ThrowIfNull(overrides);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var errors = new List<OptionError>();
        var configuration = Build(configFiles, overrides, errors);
        var options = configuration is null ? null : CrawlerServiceOptions.Read(configuration.GetSection(CrawlerServiceOptions.SectionName), errors);
        var shard = Targeting.ShardSpec.Single;
        if (options is not null)
        {
            errors.AddRange(CrawlerServiceOptionsValidator.Validate(options, out shard));
        }

        if (errors.Count > 0 || options is null)
        {
            error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"exposure: invalid crawler configuration ({errors.Count} error{(errors.Count == 1 ? "" : "s")}):"));
            foreach (var e in errors)
            {
                error.WriteLine(e.Option.StartsWith('-') ? $"  {e}" : $"  Crawler:{e}");
            }

            return ExitUsage;
        }

        using var shutdown = new GracefulShutdown(options.DrainTimeout, TimeProvider.System);
        using var linked = cancellationToken.Register(() => shutdown.Drain("cancelled"));
        var service = new CrawlerService(options, shard, loggerFactory);
        try
        {
            await service.RunAsync(shutdown, url =>
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"crawler-service shard {shard}: health {url}healthz, readiness {url}readyz, metrics {url}metrics"));
                output.Flush();
            }).ConfigureAwait(false);
            return ExitOk;
        }
        catch (IOException e)
        {
            error.WriteLine($"exposure: crawler service failed: {e.Message}");
            return ExitFailed;
        }
    }

    /// <summary>The layered configuration; null (with errors) when a file is missing or not JSON, or an override is not Key=Value.</summary>
    internal static IConfigurationRoot? Build(IReadOnlyList<string> configFiles, IReadOnlyList<string> overrides, List<OptionError> errors)
    {
        var builder = new ConfigurationBuilder();
        foreach (var file in configFiles)
        {
            if (!File.Exists(file))
            {
                errors.Add(new OptionError("--config", $"file '{file}' does not exist"));
                continue;
            }

            builder.AddJsonFile(Path.GetFullPath(file), optional: false, reloadOnChange: false);
        }

        builder.AddEnvironmentVariables();
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in overrides)
        {
            var equals = item.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                errors.Add(new OptionError("--set", $"'{item}' is not Key=Value (e.g. Rate=5000 or Targets:0=198.51.100.0/24)"));
                continue;
            }

            var key = item[..equals].Trim();
            values[key.StartsWith(CrawlerServiceOptions.SectionName + ":", StringComparison.OrdinalIgnoreCase) ? key : $"{CrawlerServiceOptions.SectionName}:{key}"] = item[(equals + 1)..];
        }

        builder.AddInMemoryCollection(values);
        if (errors.Count > 0)
        {
            return null;
        }

        try
        {
            return builder.Build();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or IOException)
        {
            errors.Add(new OptionError("--config", $"cannot read the configuration: {e.Message}{(e.InnerException is { } inner ? $" ({inner.Message})" : string.Empty)}"));
            return null;
        }
    }
}
