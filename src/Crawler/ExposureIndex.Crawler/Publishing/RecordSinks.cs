using ExposureIndex.Crawler.Options;
using Microsoft.Extensions.Logging;

namespace ExposureIndex.Crawler.Publishing;

/// <summary>Builds the sink the options ask for: an NDJSON file (or stdout) or the Indexer behind retries and a disk spool.</summary>
public static class RecordSinks
{
    /// <summary>
    /// Opens <see cref="CrawlOptions.OutputPath"/> as NDJSON (appended to, after cutting a torn last line, when
    /// resuming), or delivery to <see cref="CrawlOptions.IndexerUrl"/> through a <see cref="ResilientSink"/>: retries
    /// with backoff, a circuit breaker, and <see cref="CrawlOptions.SpoolDirectory"/> (a fresh temporary directory,
    /// removed when it ends empty, when none is given). Validate the options first; this only checks that exactly
    /// one output is set.
    /// </summary>
    public static IRecordSink Open(CrawlOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return (options.OutputPath, options.IndexerUrl) switch
        {
            ({ } path, null) => NdjsonFileSink.Open(path, append: options.Resume && path != "-"),
            (null, { } url) => OpenIndexer(options, url, loggerFactory, timeProvider),
            _ => throw new CrawlOptionsException([new OptionError("OutputPath/IndexerUrl", "give exactly one of an output file and an indexer URL")]),
        };
    }

    private static ResilientSink OpenIndexer(CrawlOptions options, Uri url, ILoggerFactory? loggerFactory, TimeProvider? timeProvider)
    {
        var temporary = options.SpoolDirectory is null;
        var spool = options.SpoolDirectory ?? Path.Combine(Path.GetTempPath(), $"exposure-spool-{Guid.NewGuid():N}");
        var indexer = new IndexerSinkOptions(url, options.Producer ?? DefaultProducer(), options.MaxInFlightBatches);
        var sink = ResilientSink.ForIndexer(indexer, new ResilientSinkOptions { SpoolDirectory = spool, DeleteDirectoryWhenEmpty = temporary },
            timeProvider, loggerFactory?.CreateLogger("ExposureIndex.Crawler.Publishing"));
        return sink;
    }

    private static string DefaultProducer() => $"crawler/{Environment.MachineName.ToLowerInvariant()}";
}
